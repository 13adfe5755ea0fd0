package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.Reservation;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.agent.pool.ReservationHolder;
import dev.bitfusion.cuda.CuResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.systemtests.CudaExamples.binary;
import static dev.bitfusion.systemtests.CudaExamples.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reservations: {@code bitfusion run} holds the job's slice from before the program starts until it has exited, every
 * process of the job shares that one slice, and the server frees it, ending the sessions still attached, when the
 * holder goes.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReservationSystemTest
{
    private static final long GPU_MEMORY_MB = 512;
    private static ServerProcess server;

    @RegisterExtension
    final ClosedAfterEach resources = new ClosedAfterEach();

    @BeforeAll
    static void startServer() throws IOException, InterruptedException
    {
        CudaExamples.buildAll();
        server = ServerProcess.start(GPU_MEMORY_MB);
    }

    @AfterAll
    static void stopServer() throws InterruptedException
    {
        server.close();
    }

    @Test
    void shouldShareOneSliceBetweenTwoProcessesOfOneRun(@TempDir final Path barrier) throws Exception
    {
        // Two slices of 0.75 never fit on one GPU: both processes run only because they share the run's one slice,
        // and each finds the other's allocation taken from it (shared_slice's own check).
        final String sharedSlice = binary("shared_slice") + " " + barrier;
        final BitfusionRun run = started(BitfusionRun.start("-n", "1", "-p", "0.75", "--server_list",
            server.serverList(), "--", "bash", "-c", sharedSlice + " 0 & " + sharedSlice + " 1 & wait"));

        assertEquals(0, run.await(120), run.output());
        for (final String process : List.of("process 0 ", "process 1 "))
        {
            assertEquals(1, run.output().lines().filter(line -> line.contains("shared_slice: " + process))
                .filter(line -> line.endsWith("PASSED")).count(), run.output());
        }
        assertTrue(!run.output().contains("FAILED"), run.output());
        server.awaitPool(pool -> pool.openSessions() == 0 && pool.gpus().get(0).slices().isEmpty(), 10_000);
    }

    @Test
    void shouldHoldTheSliceWhileTheProgramHasOpenedNoSession() throws Exception
    {
        final BitfusionRun sleeper = started(BitfusionRun.start("-n", "1", "-p", "0.75", "--server_list",
            server.serverList(), "--", "sleep", "60"));
        final GpuPoolInfo held = server.awaitPool(pool -> pool.gpus().get(0).slices().size() == 1, 30_000);
        assertEquals((GPU_MEMORY_MB << 20) / 4, held.gpus().get(0).unreservedBytes(), held.toString());

        final BitfusionRun second = started(BitfusionRun.start("-n", "1", "-p", "0.5", "--server_list",
            server.serverList(), "--", binary("vector_add")));

        assertEquals(3, second.await(60), second.output());
        assertTrue(second.output().contains("128/512 MiB unreserved"), second.output());
        assertTrue(!second.output().contains(verdict("vector_add")), "the program must not start: " + second.output());

        sleeper.terminate();
        assertEquals(128 + 15, sleeper.await(30), sleeper.output());
        server.awaitPool(pool -> pool.gpus().get(0).unreservedBytes() == GPU_MEMORY_MB << 20, 10_000);
    }

    @Test
    void shouldFreeTheSliceAndEndTheProgramsSessionWhenTheRunIsKilled() throws Exception
    {
        final BitfusionRun run = started(BitfusionRun.start("-n", "1", "-m", "256", "--server_list",
            server.serverList(), "--", binary("kernel_loop"), "90"));
        final String looping = run.awaitLine(line -> line.contains("looping"), 30_000);
        assertNotNull(looping, run.output());
        final ProcessHandle program = ProcessHandle.of(Long.parseLong(looping.replaceAll(".*pid (\\d+) looping.*", "$1")))
            .orElseThrow();
        resources.add(program::destroyForcibly);
        // The run's holder and the program's session, on one slice.
        assertEquals(1, server.awaitPool(pool -> pool.openSessions() == 2, 10_000).gpus().get(0).slices().size());

        run.kill();
        final long killedAtNs = System.nanoTime();
        // The holder's process is gone: the server ends the program's session too and frees the slice.
        final GpuPoolInfo freed = server.awaitPool(pool -> pool.openSessions() == 0 &&
            pool.gpus().get(0).unreservedBytes() == GPU_MEMORY_MB << 20, 15_000);
        final long freedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAtNs);

        assertEquals(0, freed.gpus().get(0).allocatedBytes(), freed.toString());
        assertTrue(program.onExit().get(30, TimeUnit.SECONDS) != null, "the orphaned program still runs");
        assertTrue(run.output().contains("kernel_loop: CUDA error") || !program.isAlive(), run.output());
        System.out.println("bitfusion run killed: reservation and the program's session freed after " + freedAfterMs + " ms");
    }

    @Test
    void shouldAttachOnlyWithTheReservationsKey() throws Exception
    {
        final ClientSettings holding = new ClientSettings().memoryFraction(0.5);
        try (ReservationHolder holder = ReservationHolder.hold(List.of(server.endpoint()), new int[] {0}, holding))
        {
            final Reservation reservation = holder.reservations().get(0);
            final byte[] wrongKey = reservation.key();
            wrongKey[0] ^= 1;

            final RemoteDriver stranger = attached(new Reservation(reservation.id(), wrongKey));
            final int refused = stranger.cuInit(0);
            assertNotEquals(CuResult.CUDA_SUCCESS, refused);
            assertTrue(stranger.lastError().contains("reservation " + reservation.id() + " is not held"),
                stranger.lastError());

            final RemoteDriver member = attached(reservation);
            assertEquals(CuResult.CUDA_SUCCESS, member.cuInit(0), member.lastError());
            assertEquals((GPU_MEMORY_MB << 20) / 2, member.session(0).device().totalBytes(),
                "the member's device is the reservation's slice");
            final GpuPoolInfo pool = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));
            assertEquals(2, pool.openSessions(), pool.toString());
            assertEquals(1, pool.gpus().get(0).slices().size(), pool.toString());
        }
        server.awaitPool(pool -> pool.openSessions() == 0 && pool.gpus().get(0).slices().isEmpty(), 10_000);
    }

    private RemoteDriver attached(final Reservation reservation)
    {
        final RemoteDriver driver = new RemoteDriver(new ClientSettings().server(server.endpoint())
            .reservations(new Reservation[] {reservation}).conclude(), System.out);
        resources.add(driver::close);
        return driver;
    }

    private BitfusionRun started(final BitfusionRun run)
    {
        resources.add(run::close);
        return run;
    }
}
