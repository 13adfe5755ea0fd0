package dev.bitfusion.benchmarks.transport;

import dev.bitfusion.agent.driver.NativeBuffer;
import org.openjdk.jmh.annotations.*;

import java.util.concurrent.TimeUnit;

/**
 * Host-to-device and device-to-host copies of 64 MiB from and to native memory, as a C program's would be,
 * beside a single-thread memcpy of the same size between the same buffers. A host-to-device copy ends with a
 * synchronize so the data has landed in device memory.
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

    /**
     * "off": a server without a token; "token": requests proved and every fragment tagged (the cost of it);
     * "encrypted": besides, requests and replies encrypted and replies tagged.
     */
    @Param({ "off", "token", "encrypted" })
    public String authentication;

    private RemoteSetup remote;
    private long device;
    private NativeBuffer host;
    private NativeBuffer copy;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        remote = new RemoteSetup(transport, 512, authentication);
        device = remote.alloc(BYTES);
        host = NativeBuffer.allocate(BYTES);
        copy = NativeBuffer.allocate(BYTES);
        for (int i = 0; i < BYTES; i++)
        {
            host.putByte(i, (byte)i);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        remote.close();
        host.close();
        copy.close();
    }

    @Benchmark
    public int hostToDevice()
    {
        remote.makeContextCurrent();
        RemoteSetup.check(remote.driver.memory().cuMemcpyHtoD(device, host.address(), BYTES), "cuMemcpyHtoD");
        return remote.driver.contexts().cuCtxSynchronize();
    }

    @Benchmark
    public int deviceToHost()
    {
        remote.makeContextCurrent();
        return remote.driver.memory().cuMemcpyDtoH(copy.address(), device, BYTES);
    }

    @Benchmark
    public NativeBuffer memcpyBaseline()
    {
        copy.putBytes(0, host, 0, BYTES);
        return copy;
    }
}
