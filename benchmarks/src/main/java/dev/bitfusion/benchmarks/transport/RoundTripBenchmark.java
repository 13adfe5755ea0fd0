package dev.bitfusion.benchmarks.transport;

import org.openjdk.jmh.annotations.*;

import java.util.concurrent.TimeUnit;

/**
 * The cost of one synchronous driver call (cuCtxSynchronize: request, execution on the server's session
 * thread, reply) beside raw Aeron ping-pong on the same kind of channel, in the same run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {
    "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-opens", "java.base/java.nio=ALL-UNNAMED",
    "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED" })
@State(Scope.Benchmark)
public class RoundTripBenchmark
{
    @Param({ "ipc", "udp" })
    public String transport;

    /**
     * "off": a server without a token; "token": requests proved and every fragment tagged (the cost of it);
     * "encrypted": besides, requests and replies encrypted and replies tagged.
     */
    @Param({ "off", "token", "encrypted" })
    public String authentication;

    private RemoteSetup remote;
    private AeronPingPong pingPong;

    @Setup(Level.Trial)
    public void setUp() throws Exception
    {
        remote = new RemoteSetup(transport, 256, authentication);
        pingPong = new AeronPingPong(transport);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception
    {
        pingPong.close();
        remote.close();
    }

    @Benchmark
    public int syncCall()
    {
        remote.makeContextCurrent();
        return remote.driver.contexts().cuCtxSynchronize();
    }

    @Benchmark
    public void aeronPingPongBaseline()
    {
        pingPong.roundTrip();
    }
}
