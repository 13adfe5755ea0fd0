package dev.bitfusion.systemtests;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.server.GpuServer;
import dev.bitfusion.transport.TransportSettings;
import org.agrona.IoUtil;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What earlier processes leave behind and what stalls do: a half-made Aeron directory (a zero-filled 4 KB
 * {@code cnc.dat}, as a process killed while its media driver started leaves one) stops neither a server nor a
 * client; a stopped server's directory is never removed by others; a server stopped past the liveness timeout
 * ends the sessions it lost, freeing their memory, and serves new runs.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LeftoversAndStallsSystemTest
{
    private static final String VECTOR_ADD = CudaExamples.binary("vector_add");
    private static final String KERNEL_LOOP = CudaExamples.binary("kernel_loop");
    /** Past the 10 s after which the janitor before the owner locks took a silent driver for a dead one. */
    private static final long STOPPED_LONGER_THAN_A_DRIVER_TIMEOUT_MS = 11_000;

    @RegisterExtension
    final ClosedAfterEach resources = new ClosedAfterEach();

    @BeforeAll
    static void buildExamples() throws Exception
    {
        CudaExamples.buildAll();
    }

    @Test
    void shouldStartAServerWhoseAeronDirectoryHoldsAZeroFilledCncFile() throws Exception
    {
        final int port = ServerProcess.freeUdpPort();
        leftover(new File(GpuServer.serverAeronDirectory(port)));

        final ServerProcess server = track(ServerProcess.start(port, 256));
        assertTrue(server.output().stream().anyMatch(line -> line.contains("replacing the leftover Aeron directory")),
            () -> "the server says what it replaced: " + server.output());
        expectVectorAddPasses(server);
    }

    @Test
    void shouldStartAClientBesideZeroFilledCncFilesOfOtherProcesses() throws Exception
    {
        final ServerProcess server = track(ServerProcess.start(256));
        final Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        final File ofADeadClient = leftover(new File(TransportSettings.defaultAeronDirectory(
            "client-" + gone.pid() + "-0123abcd")));
        final File ofNoKnownOwner = leftover(new File(TransportSettings.defaultAeronDirectory(
            "half-made-" + ProcessHandle.current().pid())));

        final String output = expectVectorAddPasses(server);
        assertFalse(ofADeadClient.exists(), "the directory of a client whose process is gone is removed");
        assertTrue(ofNoKnownOwner.exists(), "a fresh directory of no known owner may be a driver still starting");
        assertTrue(output.contains("left the Aeron directory " + ofNoKnownOwner + " alone"), output);
    }

    @Test
    void shouldNeverRemoveTheAeronDirectoryOfAStoppedServer() throws Exception
    {
        final ServerProcess stopped = track(ServerProcess.start(256));
        final File directory = new File(GpuServer.serverAeronDirectory(stopped.endpoint().port()));
        assertTrue(directory.isDirectory());

        stopped.stop();
        try
        {
            Thread.sleep(STOPPED_LONGER_THAN_A_DRIVER_TIMEOUT_MS);
            // Another server starting sweeps the host's Aeron directories.
            final ServerProcess other = track(ServerProcess.start(256));
            assertTrue(directory.isDirectory(), () -> "the stopped server's directory was removed: " + other.output());
        }
        finally
        {
            stopped.resume();
        }
        expectVectorAddPasses(stopped);
    }

    @Test
    void shouldEndTheSessionsItLostAndServeNewRunsAfterBeingStoppedForTenSeconds() throws Exception
    {
        final long memoryMb = 512;
        final ServerProcess server = track(ServerProcess.start(memoryMb));
        final BitfusionRun looping = track(BitfusionRun.start(
            "--server_list", server.serverList(), "-p", "0.5", "--", KERNEL_LOOP, "120"));
        assertNotNull(looping.awaitLine(line -> line.contains("looping"), 60_000), looping::output);

        server.pause(10_000);

        final GpuPoolInfo pool = awaitPool(server, info -> info.openSessions() == 0);
        assertTrue(server.isAlive(), () -> "the server outlives the stall: " + server.output());
        assertEquals(0, pool.gpus().get(0).allocatedBytes(), "memory of the lost session freed");
        assertEquals(memoryMb << 20, pool.gpus().get(0).unreservedBytes(), "slice of the lost session returned");
        assertTrue(server.output().stream().anyMatch(line -> line.contains("ended") && line.contains("freed 128 bytes")),
            () -> "the lost session ended cleanly: " + server.output());
        expectVectorAddPasses(server);
    }

    private String expectVectorAddPasses(final ServerProcess server) throws Exception
    {
        final BitfusionRun run = track(BitfusionRun.start("--server_list", server.serverList(), "-p", "0.25", "--",
            VECTOR_ADD));
        final int exitCode = run.await(90);
        final String output = run.output();
        assertEquals(0, exitCode, () -> "vector_add: " + output + "\nserver: " + server.output());
        assertTrue(output.contains(CudaExamples.verdict("vector_add")), output);
        return output;
    }

    private static GpuPoolInfo awaitPool(final ServerProcess server, final Predicate<GpuPoolInfo> condition)
        throws InterruptedException
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        GpuPoolInfo pool = null;
        RuntimeException lastFailure = null;
        while (System.nanoTime() < deadlineNs)
        {
            try
            {
                pool = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(3));
                if (condition.test(pool))
                {
                    return pool;
                }
            }
            catch (final RuntimeException ex)
            {
                lastFailure = ex;
            }
            Thread.sleep(200);
        }
        fail("the server never reached the expected state: " + pool + ", last failure " + lastFailure +
            "; server: " + server.output());
        return pool;
    }

    /**
     * @return a directory with a zero-filled 4 KB cnc.dat, removed after the test if still there.
     */
    private File leftover(final File directory) throws Exception
    {
        assertTrue(directory.mkdirs(), "made " + directory);
        Files.write(new File(directory, "cnc.dat").toPath(), new byte[4096]);
        resources.add(() -> IoUtil.delete(directory, true));
        return directory;
    }

    private <T extends AutoCloseable> T track(final T resource)
    {
        resources.add(resource);
        return resource;
    }
}
