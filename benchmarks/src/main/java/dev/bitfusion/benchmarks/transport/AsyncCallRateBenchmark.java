package dev.bitfusion.benchmarks.transport;

import dev.bitfusion.cuda.CuResult;
import org.openjdk.jmh.annotations.*;

import java.util.concurrent.TimeUnit;

/**
 * The rate of asynchronous calls (a 4-byte memset on the NULL stream) that reach the server and execute:
 * each invocation sends a batch and ends with a synchronize, so every counted call has run.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
    "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-opens", "java.base/java.nio=ALL-UNNAMED",
    "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED" })
@State(Scope.Benchmark)
public class AsyncCallRateBenchmark
{
    private static final int BATCH = 10_000;

    @Param({ "ipc", "udp" })
    public String transport;

    /**
     * "off": a server without a token; "token": requests proved and every fragment tagged (the cost of it);
     * "encrypted": besides, requests and replies encrypted and replies tagged.
     */
    @Param({ "off", "token", "encrypted" })
    public String authentication;

    private RemoteSetup remote;
    private long target;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        remote = new RemoteSetup(transport, 256, authentication);
        target = remote.alloc(4);
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        remote.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int asyncMemset()
    {
        remote.makeContextCurrent();
        for (int i = 0; i < BATCH; i++)
        {
            if (remote.driver.memory().cuMemsetD32Async(target, i, 1, 0) != CuResult.CUDA_SUCCESS)
            {
                throw new IllegalStateException("memset failed");
            }
        }
        return remote.driver.contexts().cuCtxSynchronize();
    }
}
