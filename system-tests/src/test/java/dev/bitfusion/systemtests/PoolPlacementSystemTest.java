package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.cuda.CuResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.systemtests.CudaExamples.binary;
import static dev.bitfusion.systemtests.CudaExamples.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bitfusion run} over a pool of two emulated servers, A with one GPU and B with two: the request goes where
 * it fits, whatever the order of {@code --server_list}, on one server when one has enough GPUs and across both when
 * neither has; a server that does not answer is skipped.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PoolPlacementSystemTest
{
    private static final long GPU_MEMORY_MB = 2048;

    private static ServerProcess serverA;
    private static ServerProcess serverB;
    private final List<RemoteDriver> holders = new ArrayList<>();

    /** The output and exit code of one program run. */
    record Run(int exitCode, String output)
    {
    }

    @BeforeAll
    static void startPool() throws IOException, InterruptedException
    {
        CudaExamples.buildAll();
        serverA = ServerProcess.start(GPU_MEMORY_MB);
        serverB = ServerProcess.start(GPU_MEMORY_MB, "--gpus", "2");
    }

    @AfterAll
    static void stopPool() throws InterruptedException
    {
        serverA.close();
        serverB.close();
    }

    @AfterEach
    void releaseHolders()
    {
        holders.forEach(RemoteDriver::close);
        holders.clear();
    }

    @Test
    void shouldPlaceTwoGpusOnTheServerThatHasTwoThoughTheFirstHasOne() throws Exception
    {
        final Run run = run("-n", "2", "-p", "0.5", "--server_list", pool(), "--", binary("vector_add"));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains(verdict("vector_add")), run.output());
    }

    @Test
    void shouldGoToAnIdleServerWhenTheFirstIsTaken() throws Exception
    {
        hold(serverA, 1.0);

        final Run run = run("-n", "1", "-p", "0.5", "--server_list", pool(), "--", binary("vector_add"));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains(verdict("vector_add")), run.output());
    }

    @Test
    void shouldServeTheProgramFromTheGpuThatFitsNotTheFirst() throws Exception
    {
        // B's GPU 0 has 512 MiB left: only its GPU 1 fits, and the program's device 0 must be that one.
        hold(serverB, 0.75);

        final Run run = run("-n", "1", "-p", "0.5", "--server_list", serverB.serverList(), "--",
            binary("device_info"), Long.toString(GPU_MEMORY_MB / 2));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains(verdict("device_info")), run.output());
    }

    @Test
    void shouldMoveOnWhenTheBestFittingServerRefusesTheSlice() throws Exception
    {
        // C fits best (512 MiB left over against B's 1024) but, at its session limit, refuses as a server does
        // whose memory another client took since it answered: SLICE_UNAVAILABLE.
        try (ServerProcess serverC = ServerProcess.start(GPU_MEMORY_MB, "--max-sessions", "1"))
        {
            try
            {
                hold(serverC, 0.25);

                final Run run = run("-n", "1", "-p", "0.5", "--server_list",
                    serverB.serverList() + "," + serverC.serverList(), "--", binary("vector_add"));

                assertEquals(0, run.exitCode(), run.output());
                assertTrue(run.output().contains(verdict("vector_add")), run.output());
                assertTrue(run.output().contains("bitfusion run: " + serverC.serverList() + " has no room any more"),
                    run.output());
                assertTrue(run.output().contains("SLICE_UNAVAILABLE"), run.output());
            }
            finally
            {
                releaseHolders(); // While C still runs, so the holder's session closes rather than times out.
            }
        }
    }

    @Test
    void shouldSkipAServerThatDoesNotAnswer() throws Exception
    {
        final String silent = "127.0.0.1:" + ServerProcess.freeUdpPort();

        final Run run = run("-n", "1", "-p", "0.5", "--server_list", silent + "," + serverA.serverList(), "--",
            binary("vector_add"));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains(verdict("vector_add")), run.output());
        assertEquals(1, run.output().lines()
            .filter(line -> line.startsWith("bitfusion run: server " + silent + " unreachable: "))
            .filter(line -> line.endsWith("; skipped")).count(), run.output());
    }

    @Test
    void shouldPlaceThreeGpusAcrossBothServersWhenNeitherHasThree() throws Exception
    {
        final Run run = run("-n", "3", "-p", "0.5", "--server_list", pool(), "--", binary("vector_add"));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains(verdict("vector_add")), run.output());
    }

    @Test
    void shouldSayAtOnceWhenThePoolHasTooFewGpus() throws Exception
    {
        final Run run = run("-n", "4", "-p", "0.5", "--server_list", pool(), "--", binary("vector_add"));

        assertEquals(3, run.exitCode(), run.output());
        assertTrue(run.output().contains("bitfusion run: cannot get 4 GPUs with 0.5 of the memory each: 3 GPUs of " +
            "the pool can ever hold a slice of 0.5 of the memory, 4 wanted; the pool has 3 GPUs"), run.output());
        assertFalse(run.output().contains(verdict("vector_add")), "the program must not start: " + run.output());
    }

    private static String pool()
    {
        return serverA.serverList() + "," + serverB.serverList();
    }

    /** Another tenant: a session holding a slice of the server's GPU 0 until the test ends. */
    private void hold(final ServerProcess server, final double fraction)
    {
        final RemoteDriver holder = new RemoteDriver(
            new ClientSettings().server(server.endpoint()).memoryFraction(fraction), System.out);
        holders.add(holder);
        assertEquals(CuResult.CUDA_SUCCESS, holder.cuInit(0), holder.lastError());
    }

    private static Run run(final String... args) throws IOException, InterruptedException
    {
        try (BitfusionRun run = BitfusionRun.start(args))
        {
            final int exitCode = run.await(120);
            assertTrue(exitCode >= 0, "bitfusion run did not finish: " + run.output());
            return new Run(exitCode, run.output());
        }
    }
}
