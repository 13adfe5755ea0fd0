package dev.bitfusion.benchmarks.transport;

import org.openjdk.jmh.annotations.*;

import java.util.concurrent.TimeUnit;

/**
 * Host-to-device and device-to-host copies of 64 MiB beside a single-thread memcpy of the same size.
 * A host-to-device copy ends with a synchronize so the data has landed in device memory.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {
    "-Xmx2g",
    "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-opens", "java.base/java.nio=ALL-UNNAMED",
    "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED" })
@State(Scope.Benchmark)
public class BandwidthBenchmark
{
    public static final int BYTES = 64 << 20;

    @Param({ "ipc", "udp" })
    public String transport;

    private RemoteSetup remote;
    private long device;
    private final byte[] host = new byte[BYTES];
    private final byte[] copy = new byte[BYTES];

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        remote = new RemoteSetup(transport, 512);
        device = remote.alloc(BYTES);
        for (int i = 0; i < BYTES; i++)
        {
            host[i] = (byte)i;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        remote.close();
    }

    @Benchmark
    public int hostToDevice()
    {
        remote.makeContextCurrent();
        RemoteSetup.check(remote.driver.cuMemcpyHtoD(device, host, 0, BYTES), "cuMemcpyHtoD");
        return remote.driver.cuCtxSynchronize();
    }

    @Benchmark
    public int deviceToHost()
    {
        remote.makeContextCurrent();
        return remote.driver.cuMemcpyDtoH(copy, 0, device, BYTES);
    }

    @Benchmark
    public byte[] memcpyBaseline()
    {
        System.arraycopy(host, 0, copy, 0, BYTES);
        return copy;
    }
}
