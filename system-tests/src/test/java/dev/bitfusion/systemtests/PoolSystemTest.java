package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.agent.pool.ReservationHolder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.bitfusion.systemtests.CudaExamples.binary;
import static dev.bitfusion.systemtests.CudaExamples.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pool of three emulated servers of different sizes: A with one GPU of 1 GiB, B with two of 1 GiB, C with one of
 * 4 GiB; four GPUs in all, so four whole-GPU jobs at a time. Requests wait in line for room, fail at once when they
 * could never fit, and the slices of a killed holder go to the next in line.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PoolSystemTest
{
    private static final int POOL_GPUS = 4;
    private static ServerProcess serverA;
    private static ServerProcess serverB;
    private static ServerProcess serverC;

    @RegisterExtension
    final ClosedAfterEach resources = new ClosedAfterEach();

    @BeforeAll
    static void startPool() throws IOException, InterruptedException
    {
        CudaExamples.buildAll();
        serverA = ServerProcess.start(1024);
        serverB = ServerProcess.start(1024, "--gpus", "2");
        serverC = ServerProcess.start(4096);
    }

    @AfterAll
    static void stopPool() throws InterruptedException
    {
        serverA.close();
        serverB.close();
        serverC.close();
    }

    @Test
    void shouldPlaceTheRequestOnlyTheBigServerFitsThere() throws Exception
    {
        // device_info checks that the device's memory is the 4096 MiB slice: only C's GPU can hold it.
        final BitfusionRun run = started(BitfusionRun.start("-n", "1", "-m", "4096", "--server_list", pool(), "--",
            binary("device_info"), "4096"));

        assertEquals(0, run.await(120), run.output());
        assertTrue(run.output().contains(verdict("device_info")), run.output());
    }

    @Test
    void shouldRunEightJobsFourAtATimeInLineWithoutOverCommit() throws Exception
    {
        final AtomicBoolean watching = new AtomicBoolean(true);
        final AtomicInteger mostHeldAtOnce = new AtomicInteger();
        final List<String> overCommitted = new ArrayList<>();
        final Thread ledgerWatch = new Thread(() ->
        {
            while (watching.get())
            {
                int held = 0;
                for (final ServerProcess server : List.of(serverA, serverB, serverC))
                {
                    try
                    {
                        final GpuPoolInfo pool = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));
                        for (final GpuPoolInfo.Gpu gpu : pool.gpus())
                        {
                            held += gpu.slices().size();
                            if (gpu.unreservedBytes() < 0 || gpu.slices().stream()
                                .mapToLong(GpuPoolInfo.Slice::sliceBytes).sum() > gpu.totalBytes())
                            {
                                synchronized (overCommitted)
                                {
                                    overCommitted.add(server.serverList() + " " + gpu);
                                }
                            }
                        }
                    }
                    catch (final RuntimeException ex)
                    {
                        // A listing lost under load is skipped; the next one counts.
                    }
                }
                mostHeldAtOnce.accumulateAndGet(held, Math::max);
            }
        }, "ledger-watch");
        ledgerWatch.start();
        final List<BitfusionRun> runs = new ArrayList<>();
        try
        {
            for (int i = 0; i < 2 * POOL_GPUS; i++)
            {
                // Each holds a whole GPU for a few seconds, allocating and copying all the while.
                runs.add(started(BitfusionRun.start("-n", "1", "-p", "1.0", "--timeout", "240", "--server_list", pool(),
                    "--", binary("kernel_loop"), "4")));
            }
            for (final BitfusionRun run : runs)
            {
                assertEquals(0, run.await(280), run.output());
                assertTrue(run.output().contains("PASSED"), run.output());
                assertFalse(run.output().contains("out of memory"), run.output());
            }
        }
        finally
        {
            watching.set(false);
            ledgerWatch.join();
        }

        assertTrue(overCommitted.isEmpty(), String.join("\n", overCommitted));
        assertTrue(mostHeldAtOnce.get() <= POOL_GPUS, "slices held at once: " + mostHeldAtOnce.get());
        assertTrue(runs.stream().anyMatch(run -> run.output().contains("bitfusion run: waiting up to 240 s")),
            "with 8 jobs for 4 GPUs some must have waited");
        System.out.println("8 jobs on 4 GPUs: at most " + mostHeldAtOnce.get() + " slices held at once");
    }

    @Test
    void shouldFailAtOnceWhenThePoolIsFullAndTheTimeoutIsZero() throws Exception
    {
        holdWholePool();

        final long startNs = System.nanoTime();
        final BitfusionRun run = started(BitfusionRun.start("-n", "1", "-p", "0.5", "--timeout", "0", "--server_list",
            pool(), "--", binary("vector_add")));

        assertEquals(3, run.await(60), run.output());
        final long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs);
        assertTrue(run.output().contains("bitfusion run: cannot get 1 GPU with 0.5 of the memory each: 0 GPUs of the " +
            "pool fit the slice"), run.output());
        assertFalse(run.output().contains("waiting"), run.output());
        System.out.println("full pool, --timeout 0: failed after " + tookMs + " ms");
    }

    @Test
    void shouldFailAtOnceWhateverTheTimeoutWhenTheRequestCanNeverFit() throws Exception
    {
        final BitfusionRun tooBig = started(BitfusionRun.start("-n", "1", "-m", "8192", "--timeout", "600",
            "--server_list", pool(), "--", binary("vector_add")));
        final BitfusionRun tooMany = started(BitfusionRun.start("-n", "5", "-p", "0.1", "--timeout", "600",
            "--server_list", pool(), "--", binary("vector_add")));

        assertEquals(3, tooBig.await(60), tooBig.output());
        assertTrue(tooBig.output().contains("0 GPUs of the pool can ever hold a slice of 8192 MiB"), tooBig.output());
        assertTrue(tooBig.output().contains(serverC.serverList() + " GPU 0 4096/4096 MiB"), tooBig.output());
        assertEquals(3, tooMany.await(60), tooMany.output());
        assertTrue(tooMany.output().contains("4 GPUs of the pool can ever hold a slice of 0.1 of the memory, 5 wanted"),
            tooMany.output());
        assertTrue(tooMany.output().contains("the pool has 4 GPUs"), tooMany.output());
    }

    @Test
    void shouldNotLetASmallRequestOvertakeALargeOneWaitingInLine() throws Exception
    {
        final ReservationHolder half = ReservationHolder.hold(List.of(serverA.endpoint()), new int[] {0},
            new ClientSettings().memoryFraction(0.5));
        resources.add(half);
        final BitfusionRun large = started(BitfusionRun.start("-n", "1", "-p", "1.0", "--timeout", "120",
            "--server_list", serverA.serverList(), "--", binary("vector_add")));
        final String waiting = large.awaitLine(line -> line.startsWith("bitfusion run: waiting up to 120 s"), 60_000);
        assertNotNull(waiting, large.output());
        assertTrue(waiting.endsWith("in line on 1 server, first in line"), waiting);

        // A quarter fits in the half that is free, but the whole GPU was asked for first.
        final BitfusionRun small = started(BitfusionRun.start("-n", "1", "-p", "0.25", "--timeout", "0",
            "--server_list", serverA.serverList(), "--", binary("vector_add")));
        assertEquals(3, small.await(60), small.output());
        assertTrue(small.output().contains("1 request waits"), small.output());
        assertTrue(small.output().contains("ahead of this one"), small.output());

        half.close();
        assertEquals(0, large.await(60), large.output());
        assertTrue(large.output().contains(verdict("vector_add")), large.output());
    }

    @Test
    void shouldGiveTheSliceOfAKilledHolderToTheRequestWaitingForIt() throws Exception
    {
        // Every GPU but A's is held by this test; A's by a bitfusion run that is then killed.
        final ClientSettings whole = new ClientSettings().memoryFraction(1.0);
        resources.add(ReservationHolder.hold(List.of(serverB.endpoint(), serverB.endpoint()), new int[] {0, 1}, whole));
        resources.add(ReservationHolder.hold(List.of(serverC.endpoint()), new int[] {0}, whole));
        final BitfusionRun holder = started(BitfusionRun.start("-n", "1", "-p", "1.0", "--server_list",
            serverA.serverList(), "--", "sleep", "120"));
        serverA.awaitPool(pool -> pool.gpus().get(0).unreservedBytes() == 0, 30_000);

        final BitfusionRun waiter = started(BitfusionRun.start("-n", "1", "-p", "0.5", "--timeout", "120",
            "--server_list", pool(), "--", binary("vector_add")));
        assertNotNull(waiter.awaitLine(line -> line.startsWith("bitfusion run: waiting up to 120 s"), 60_000),
            waiter.output());
        holder.kill();
        final long killedAtNs = System.nanoTime();

        assertEquals(0, waiter.await(60), waiter.output());
        final long servedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAtNs);
        assertTrue(waiter.output().contains(verdict("vector_add")), waiter.output());
        System.out.println("holder killed: the waiting request ran after " + servedAfterMs + " ms");
    }

    @Test
    void shouldSendNewRunsToTheOtherServersWhenOneIsKilled() throws Exception
    {
        try (ServerProcess doomed = ServerProcess.start(1024))
        {
            final BitfusionRun first = started(BitfusionRun.start("-n", "1", "-m", "512", "--server_list",
                doomed.serverList(), "--", binary("vector_add")));
            assertEquals(0, first.await(120), first.output());

            doomed.kill();
            final BitfusionRun next = started(BitfusionRun.start("-n", "1", "-m", "512", "--server_list",
                doomed.serverList() + "," + pool(), "--", binary("vector_add")));

            assertEquals(0, next.await(120), next.output());
            assertTrue(next.output().contains(verdict("vector_add")), next.output());
            assertTrue(next.output().contains("bitfusion run: server " + doomed.serverList() + " unreachable: "),
                next.output());
        }
    }

    private void holdWholePool()
    {
        final ClientSettings whole = new ClientSettings().memoryFraction(1.0);
        resources.add(ReservationHolder.hold(List.of(serverA.endpoint()), new int[] {0}, whole));
        resources.add(ReservationHolder.hold(List.of(serverB.endpoint(), serverB.endpoint()), new int[] {0, 1}, whole));
        resources.add(ReservationHolder.hold(List.of(serverC.endpoint()), new int[] {0}, whole));
    }

    private static String pool()
    {
        return serverA.serverList() + "," + serverB.serverList() + "," + serverC.serverList();
    }

    private BitfusionRun started(final BitfusionRun run)
    {
        resources.add(run::close);
        return run;
    }
}
