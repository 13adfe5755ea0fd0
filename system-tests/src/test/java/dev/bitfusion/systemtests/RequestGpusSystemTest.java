package dev.bitfusion.systemtests;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.systemtests.CudaExamples.binary;
import static dev.bitfusion.systemtests.CudaExamples.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code request_gpus} / {@code client} / {@code release_gpus}: GPUs held by a background holder process across
 * several commands, every {@code client} attached to that one reservation, and what happens when the holder is
 * released or killed.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class RequestGpusSystemTest
{
    private static final long GPU_MEMORY_MB = 512;
    private static final long GPU_BYTES = GPU_MEMORY_MB << 20;
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
    void shouldHoldASliceForClientsUntilReleased(@TempDir final Path directory) throws Exception
    {
        final Path file = directory.resolve("reservation");
        final BitfusionRun request = command("request_gpus", "-n", "1", "-p", "0.5", "--server_list", server.serverList(),
            "-f", file.toString());
        assertEquals(0, request.await(60), request.output());
        holderOf(file);
        assertTrue(request.output().contains("holding 1 GPU with 0.5 of the memory each"), request.output());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));

        // Held while no program runs: the holder's one session, which has no device context.
        final GpuPoolInfo held = server.awaitPool(pool -> pool.gpus().get(0).slices().size() == 1, 10_000);
        assertEquals(1, held.openSessions(), held.toString());
        assertEquals(GPU_BYTES / 2, held.gpus().get(0).unreservedBytes(), held.toString());

        final BitfusionRun again = command("request_gpus", "-p", "0.25", "--server_list", server.serverList(),
            "-f", file.toString());
        assertEquals(1, again.await(60), again.output());
        assertTrue(again.output().contains("already holds 1 GPU"), again.output());

        // Two clients at once: both pass, and neither takes a slice of its own.
        final BitfusionRun first = command("client", "-f", file.toString(), "--", binary("vector_add"));
        final BitfusionRun second = command("client", "-f", file.toString(), "--", binary("vector_add"));
        String violation = null;
        while (violation == null && (first.isRunning() || second.isRunning()))
        {
            final GpuPoolInfo pool = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));
            if (pool.gpus().get(0).slices().size() != 1 || pool.gpus().get(0).unreservedBytes() != GPU_BYTES / 2)
            {
                violation = "a client took capacity of its own: " + pool;
            }
            Thread.sleep(50);
        }
        assertNull(violation, violation);
        for (final BitfusionRun client : List.of(first, second))
        {
            assertEquals(0, client.await(120), client.output());
            assertTrue(client.output().contains(verdict("vector_add")), client.output());
        }

        // smi, as a script reads it, while a client runs: the one slice, held by request_gpus, with the client attached.
        final BitfusionRun looping = command("client", "-f", file.toString(), "--", binary("kernel_loop"), "60");
        assertTrue(looping.awaitLine(line -> line.contains("looping"), 60_000) != null, looping.output());
        final BitfusionRun smi = command("smi", "--json", "--server_list", server.serverList());
        assertEquals(0, smi.await(60), smi.output());
        final JsonNode document = JsonMapper.builder().build().readTree(
            smi.output().lines().filter(line -> line.startsWith("{")).findFirst().orElseThrow());
        final JsonNode slices = document.get("servers").get(0).get("gpus").get(0).get("slices");
        assertEquals(1, slices.size(), document.toString());
        assertEquals(2, slices.get(0).get("sessions").asInt(), "the holder and the client: " + document);
        assertTrue(slices.get(0).get("client").get("tag").asString().startsWith("bitfusion request_gpus "),
            document.toString());
        assertTrue(slices.get(0).get("callsPerSecond").asDouble() > 0, "the client loops: " + document);
        looping.terminate();
        looping.await(30);

        // Two clients sharing the one slice, each holding 40% of it at the same moment.
        final Path barrier = Files.createDirectory(directory.resolve("barrier"));
        final BitfusionRun role0 = command("client", "-f", file.toString(), "--", binary("shared_slice"),
            barrier.toString(), "0");
        final BitfusionRun role1 = command("client", "-f", file.toString(), "--", binary("shared_slice"),
            barrier.toString(), "1");
        for (final BitfusionRun client : List.of(role0, role1))
        {
            assertEquals(0, client.await(120), client.output());
            assertTrue(client.output().lines().anyMatch(line -> line.startsWith("shared_slice: process ") &&
                line.endsWith("PASSED")), client.output());
        }

        final BitfusionRun release = command("release_gpus", "-f", file.toString());
        assertEquals(0, release.await(60), release.output());
        assertTrue(release.output().contains("released 1 GPU with 0.5 of the memory each"), release.output());
        assertFalse(Files.exists(file), "release_gpus leaves no reservation file");
        // The holder waited for the server to free the slice before it ended.
        final GpuPoolInfo freed = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));
        assertEquals(GPU_BYTES, freed.gpus().get(0).unreservedBytes(), freed.toString());
        assertEquals(0, freed.openSessions(), freed.toString());

        final Path ran = directory.resolve("ran");
        final long startedNs = System.nanoTime();
        final BitfusionRun late = command("client", "-f", file.toString(), "--", "touch", ran.toString());
        assertEquals(3, late.await(60), late.output());
        System.out.println("client after release_gpus failed after " +
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNs) + " ms");
        assertTrue(late.output().contains("no GPUs are held in " + file), late.output());
        assertFalse(Files.exists(ran), "the program must not start");

        final BitfusionRun nothing = command("release_gpus", "-f", file.toString());
        assertEquals(1, nothing.await(60), nothing.output());
        assertTrue(nothing.output().contains("nothing to release"), nothing.output());
    }

    @Test
    void shouldFreeTheSliceWhenTheHolderIsKilledAndSaySoOnRelease(@TempDir final Path directory) throws Exception
    {
        final Path file = directory.resolve("reservation");
        final BitfusionRun request = command("request_gpus", "-m", "128", "--server_list", server.serverList(),
            "-f", file.toString());
        assertEquals(0, request.await(60), request.output());
        final ProcessHandle holder = holderOf(file);
        server.awaitPool(pool -> pool.gpus().get(0).unreservedBytes() == GPU_BYTES - (128 << 20), 10_000);

        holder.destroyForcibly();
        final long killedAtNs = System.nanoTime();
        server.awaitPool(pool -> pool.openSessions() == 0 && pool.gpus().get(0).unreservedBytes() == GPU_BYTES, 15_000);
        System.out.println("request_gpus holder killed: its slice freed after " +
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAtNs) + " ms");

        final BitfusionRun client = command("client", "-f", file.toString(), "--", binary("vector_add"));
        assertEquals(3, client.await(60), client.output());
        assertTrue(client.output().contains("(pid " + holder.pid() + ") is gone"), client.output());
        assertTrue(client.output().contains("run bitfusion request_gpus -f " + file + " again"), client.output());
        assertFalse(client.output().contains(verdict("vector_add")), client.output());

        final BitfusionRun release = command("release_gpus", "-f", file.toString());
        assertEquals(0, release.await(60), release.output());
        assertTrue(release.output().contains("the holder (pid " + holder.pid() + ") was already gone"), release.output());
        assertFalse(Files.exists(file), "release_gpus removes the file of a holder that is gone");
    }

    /**
     * @return the holder process the file names, killed after the test whatever happens.
     */
    private ProcessHandle holderOf(final Path file) throws IOException
    {
        final Properties reservation = new Properties();
        try (var reader = Files.newBufferedReader(file))
        {
            reservation.load(reader);
        }
        final ProcessHandle holder = ProcessHandle.of(Long.parseLong(reservation.getProperty("holder_pid"))).orElseThrow();
        resources.add(holder::destroyForcibly);
        return holder;
    }

    private BitfusionRun command(final String command, final String... args) throws IOException
    {
        return resources.add(BitfusionRun.startCommand(command, Map.of(), args));
    }
}
