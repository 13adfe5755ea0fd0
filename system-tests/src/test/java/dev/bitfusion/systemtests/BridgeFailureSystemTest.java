package dev.bitfusion.systemtests;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.systemtests.CudaExamples.binary;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Failures around a program running through {@code bin/bitfusion run}: the server dies while the program
 * loops (the program gets a CUDA error, the command exits non-zero within seconds), and the program is
 * killed with SIGKILL (the server frees its slice on its own).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BridgeFailureSystemTest
{
    private static final long SERVER_MEMORY_MB = 2048;
    private static final long NOTICE_LIMIT_MS = 15_000;
    private static final long RELEASE_LIMIT_S = 20;

    private ServerProcess server;
    private BitfusionRun run;

    @BeforeAll
    static void buildExamples() throws IOException, InterruptedException
    {
        CudaExamples.buildAll();
    }

    @BeforeEach
    void startServer() throws IOException, InterruptedException
    {
        server = ServerProcess.start(SERVER_MEMORY_MB);
    }

    @AfterEach
    void stopAll() throws InterruptedException
    {
        if (run != null)
        {
            run.close();
        }
        if (server != null)
        {
            server.close();
        }
    }

    @Test
    void shouldFailTheProgramAndTheCommandWithinSecondsWhenTheServerDies() throws Exception
    {
        run = BitfusionRun.start("-n", "1", "-p", "0.5", "--server_list", server.serverList(), "--",
            binary("kernel_loop"), "90");
        assertNotNull(run.awaitLine(line -> line.contains("looping"), 30_000), run.output());

        server.kill();
        final long killedAtNs = System.nanoTime();
        final int exitCode = run.await(NOTICE_LIMIT_MS / 1000);
        final long failedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAtNs);

        assertTrue(exitCode >= 0, "bitfusion run still running " + failedAfterMs + " ms after the server died: " + run.output());
        assertNotEquals(0, exitCode, run.output());
        assertTrue(run.output().contains("kernel_loop: CUDA error"), run.output());
        System.out.println("server killed: program failed and bitfusion run exited " + exitCode + " after " + failedAfterMs + " ms");
    }

    @Test
    void shouldFreeTheSliceWhenTheProgramIsKilled() throws Exception
    {
        run = BitfusionRun.start("-n", "1", "-m", "512", "--server_list", server.serverList(), "--",
            binary("kernel_loop"), "90");
        final String looping = run.awaitLine(line -> line.contains("looping"), 30_000);
        assertNotNull(looping, run.output());
        final long pid = Long.parseLong(looping.replaceAll(".*pid (\\d+) looping.*", "$1"));
        final GpuPoolInfo busy = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));
        // The program's session and the hold-only session of bitfusion run, which holds the one slice for the job.
        assertEquals(2, busy.openSessions(), busy.toString());
        assertEquals(1, busy.gpus().get(0).slices().size(), busy.toString());
        assertEquals(512L << 20, busy.gpus().get(0).slices().get(0).sliceBytes(), busy.toString());

        assertTrue(ProcessHandle.of(pid).orElseThrow().destroyForcibly(), "SIGKILL to " + pid);
        final long killedAtNs = System.nanoTime();
        final int exitCode = run.await(RELEASE_LIMIT_S);
        final long freedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAtNs);
        // bitfusion run waits for the server to free the slice before it exits: free at once.
        final GpuPoolInfo freed = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));

        assertEquals(128 + 9, exitCode, "bitfusion run passes the signal death on: " + run.output());
        assertEquals(0, freed.openSessions(), freed.toString());
        assertTrue(freed.gpus().get(0).slices().isEmpty(), freed.toString());
        assertEquals(freed.gpus().get(0).totalBytes(), freed.gpus().get(0).unreservedBytes(), freed.toString());
        assertEquals(0, freed.gpus().get(0).allocatedBytes(), freed.toString());
        System.out.println("program killed: slice freed and bitfusion run exited after " + freedAfterMs + " ms");
    }

    @Test
    void shouldPassSigtermOnToTheProgramAndFreeTheSlice() throws Exception
    {
        run = BitfusionRun.start("-n", "1", "-p", "0.25", "--server_list", server.serverList(), "--",
            binary("kernel_loop"), "90");
        final String looping = run.awaitLine(line -> line.contains("looping"), 30_000);
        assertNotNull(looping, run.output());
        final ProcessHandle program = ProcessHandle.of(Long.parseLong(looping.replaceAll(".*pid (\\d+) looping.*", "$1")))
            .orElseThrow();

        run.terminate();
        final int exitCode = run.await(RELEASE_LIMIT_S);

        assertEquals(128 + 15, exitCode, run.output());
        assertTrue(program.onExit().get(5, TimeUnit.SECONDS) != null && !program.isAlive(), "the program still runs");
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(NOTICE_LIMIT_MS);
        GpuPoolInfo pool = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));
        while (pool.openSessions() != 0 && System.nanoTime() < deadlineNs)
        {
            Thread.sleep(200);
            pool = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));
        }
        assertEquals(0, pool.openSessions(), pool.toString());
    }
}
