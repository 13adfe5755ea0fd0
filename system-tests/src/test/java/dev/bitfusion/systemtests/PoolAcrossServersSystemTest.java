package dev.bitfusion.systemtests;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.systemtests.CudaExamples.binary;
import static dev.bitfusion.systemtests.CudaExamples.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bitfusion run} over a pool of three emulated servers, A and B with one 2 GiB GPU each and C with two of
 * 4 GiB: one program's devices on several servers when no server has enough, and {@code --filter} moving a program
 * to the server it names, or failing at once when it matches nothing.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PoolAcrossServersSystemTest
{
    private static final long SMALL_GPU_MB = 2048;
    private static final long LARGE_GPU_MB = 4096;
    private static final String MULTI_GPU_VERDICT = "multi_gpu: 2 GPUs, copies between them PASSED";

    private static ServerProcess serverA;
    private static ServerProcess serverB;
    private static ServerProcess serverC;

    @RegisterExtension
    final ClosedAfterEach resources = new ClosedAfterEach();

    /** The output and exit code of one program run. */
    record Run(int exitCode, String output)
    {
    }

    @BeforeAll
    static void startPool() throws IOException, InterruptedException
    {
        CudaExamples.buildAll();
        serverA = ServerProcess.start(SMALL_GPU_MB);
        serverB = ServerProcess.start(SMALL_GPU_MB);
        serverC = ServerProcess.start(LARGE_GPU_MB, "--gpus", "2");
    }

    @AfterAll
    static void stopPool() throws InterruptedException
    {
        for (final ServerProcess server : new ServerProcess[]{ serverA, serverB, serverC })
        {
            if (server != null)
            {
                server.close();
            }
        }
    }

    @AfterEach
    void everySliceIsFreed() throws InterruptedException
    {
        final long deadlineMs = System.currentTimeMillis() + 15_000;
        for (final ServerProcess server : List.of(serverA, serverB, serverC))
        {
            while (sliceCounts(server).stream().mapToInt(Integer::intValue).sum() > 0)
            {
                assertTrue(System.currentTimeMillis() < deadlineMs, server.serverList() + " still holds a slice");
                Thread.sleep(100);
            }
        }
    }

    @Test
    void shouldRunMultiGpuWithEachDeviceOnAOneGpuServerOfItsOwn() throws Exception
    {
        final Run run = run("-n", "2", "-p", "0.5", "--server_list", serverA.serverList() + "," + serverB.serverList(),
            "--", binary("multi_gpu"));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains(MULTI_GPU_VERDICT), run.output());
        // cudaMemcpyPeer copies 4 MiB from A's GPU to B's, cudaMemcpyAsync 4 MiB back: each server sent one copy
        // straight to the other and received one, and the bytes never passed through the client.
        for (final ServerProcess server : List.of(serverA, serverB))
        {
            final String log = String.join("\n", server.output());
            assertTrue(log.contains("peer copy of " + (4 << 20) + " bytes sent to"), log);
            assertTrue(log.contains("peer copy of " + (4 << 20) + " bytes received from another server"), log);
        }
        assertFalse(run.output().contains("cannot reach each other"), run.output());
    }

    @Test
    void shouldTakeThreeGpusFromThreeServersWhenNoServerHasThree() throws Exception
    {
        // C has two GPUs, A and B one each: -n 3 fits on no server alone. By best fit per GPU (half of A's and of
        // B's GPU leave 1 GiB over, half of each of C's 2 GiB) the devices are A's, B's and one of C's.
        final BitfusionRun run = resources.add(BitfusionRun.start("-n", "3", "-p", "0.5", "--server_list",
            serverC.serverList() + "," + serverA.serverList() + "," + serverB.serverList(),
            "--", binary("kernel_loop"), "15"));
        assertNotNull(run.awaitLine(line -> line.contains("looping"), 90_000), run.output());

        // Every device's session is open while the program runs: one slice on each server.
        assertEquals(List.of(1), sliceCounts(serverA), run.output());
        assertEquals(List.of(1), sliceCounts(serverB), run.output());
        assertEquals(1, sliceCounts(serverC).stream().mapToInt(Integer::intValue).sum(), run.output());
        assertEquals(0, run.await(60), run.output());
        assertTrue(run.output().contains("kernel_loop: "), run.output());
    }

    @Test
    void shouldMoveTheProgramToTheServerTheFilterNames() throws Exception
    {
        // Half of A's 2 GiB GPU fits best, so without a filter the program's slice is 1 GiB; on C it is 2 GiB.
        final String pool = serverA.serverList() + "," + serverC.serverList();
        final Run bestFit = run("-n", "1", "-p", "0.5", "--server_list", pool, "--",
            binary("device_info"), Long.toString(SMALL_GPU_MB / 2));
        final Run byAddress = run("-n", "1", "-p", "0.5", "--server_list", pool,
            "--filter", "server.addr=" + serverC.serverList(), "--", binary("device_info"), Long.toString(LARGE_GPU_MB / 2));
        final Run byMemory = run("-n", "1", "-p", "0.5", "--server_list", pool,
            "--filter", "device.phy-memory=" + LARGE_GPU_MB, "--filter", "device.name=emulated", "--",
            binary("device_info"), Long.toString(LARGE_GPU_MB / 2));

        for (final Run run : List.of(bestFit, byAddress, byMemory))
        {
            assertEquals(0, run.exitCode(), run.output());
            assertTrue(run.output().contains(verdict("device_info")), run.output());
        }
    }

    @Test
    void shouldFailAtOnceWhenTheFilterMatchesNoGpu() throws Exception
    {
        final long startMs = System.currentTimeMillis();
        final Run run = run("-n", "1", "-p", "0.5", "--server_list", serverA.serverList() + "," + serverB.serverList(),
            "--filter", "device.phy-memory=" + LARGE_GPU_MB, "--", binary("vector_add"));

        assertEquals(3, run.exitCode(), run.output());
        assertTrue(run.output().contains("bitfusion run: cannot get 1 GPU with 0.5 of the memory each: 0 GPUs of " +
            "the pool match --filter device.phy-memory=" + LARGE_GPU_MB + ", 1 wanted; the pool has 2 GPUs"), run.output());
        assertTrue(run.output().contains(serverA.serverList() + " GPU 0 " + SMALL_GPU_MB + "/" + SMALL_GPU_MB +
            " MiB unreserved (Bitfusion Emulated GPU, host "), run.output());
        assertFalse(run.output().contains(verdict("vector_add")), "the program must not start: " + run.output());
        assertTrue(System.currentTimeMillis() - startMs < 60_000, "no waiting for what can never come");
    }

    @Test
    void shouldNameTheKeysWhenAFilterKeyIsUnknown() throws Exception
    {
        final Run run = run("-n", "1", "--server_list", serverA.serverList(), "--filter", "gpu.memory=2048", "--",
            binary("vector_add"));

        assertEquals(2, run.exitCode(), run.output());
        assertTrue(run.output().contains("bitfusion run: unknown filter key 'gpu.memory'"), run.output());
        assertTrue(run.output().contains("server.addr, server.hostname"), run.output());
    }

    /**
     * @return how many slices are open on each of the server's GPUs, by its own ledger.
     */
    private static List<Integer> sliceCounts(final ServerProcess server)
    {
        final GpuPoolInfo info = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));
        return info.gpus().stream().map(gpu -> gpu.slices().size()).toList();
    }

    private Run run(final String... args) throws IOException, InterruptedException
    {
        final BitfusionRun run = resources.add(BitfusionRun.start(args));
        final int exitCode = run.await(120);
        assertTrue(exitCode >= 0, "bitfusion run did not finish: " + run.output());
        return new Run(exitCode, run.output());
    }
}
