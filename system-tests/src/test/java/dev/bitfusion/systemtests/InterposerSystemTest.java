package dev.bitfusion.systemtests;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Unmodified nvcc-built programs (static cudart, default flags) from examples/cuda run through
 * {@code bin/bitfusion run} against a server in its own process, over UDP on loopback; each program checks
 * its own results and prints PASSED.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class InterposerSystemTest
{
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Path NVCC = Path.of(System.getenv().getOrDefault("CUDA_HOME", "/usr/local/cuda"), "bin", "nvcc");
    private static final Path BUILT = ROOT.resolve("system-tests/target/cuda-examples");
    private static final long SERVER_MEMORY_MB = 2048;

    private ServerProcess server;

    /** The output and exit code of one program run. */
    record Run(int exitCode, String output)
    {
    }

    @BeforeAll
    static void buildExamples() throws IOException, InterruptedException
    {
        if (!Files.isExecutable(NVCC))
        {
            System.err.println("InterposerSystemTest: SKIPPED, no nvcc at " + NVCC +
                ": the CUDA toolkit is needed to build the example programs");
        }
        assumeTrue(Files.isExecutable(NVCC), "nvcc not found at " + NVCC);
        Files.createDirectories(BUILT);
        for (final String example : List.of("vector_add", "device_info"))
        {
            final Path source = ROOT.resolve("examples/cuda/" + example + ".cu");
            final Path binary = BUILT.resolve(example);
            if (Files.exists(binary) && Files.getLastModifiedTime(binary).compareTo(Files.getLastModifiedTime(source)) > 0)
            {
                continue;
            }
            final Process nvcc = new ProcessBuilder(NVCC.toString(), "-o", binary.toString(), source.toString())
                .redirectErrorStream(true).start();
            final String output = new String(nvcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, nvcc.waitFor(), "nvcc " + source + ": " + output);
        }
    }

    @BeforeEach
    void startServer() throws IOException, InterruptedException
    {
        server = ServerProcess.start(SERVER_MEMORY_MB);
    }

    @AfterEach
    void stopServer() throws InterruptedException
    {
        if (server != null)
        {
            server.close();
        }
    }

    @Test
    void shouldRunKernelAndCopiesOfStaticCudartProgramOnRemoteHalfGpu() throws Exception
    {
        final Run run = run("-n", "1", "-p", "0.5", "--server_list", server.serverList(), "--", binary("vector_add"));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("vector_add: 4096 elements PASSED"), run.output());
    }

    @Test
    void shouldShowTheSliceToTheProgramAndRefuseAllocationsPastIt() throws Exception
    {
        final Run run = run("-n", "1", "-m", "1024", "--server_list", server.serverList(), "--",
            binary("device_info"), "1024");

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("1024 MiB total / 1024 MiB free (cudaMemGetInfo)"), run.output());
        assertTrue(run.output().contains("device_info: PASSED"), run.output());
    }

    @Test
    void shouldFailBeforeStartingTheProgramWhenTheSliceCannotBeHad() throws Exception
    {
        final Run run = run("-n", "1", "-m", Long.toString(SERVER_MEMORY_MB * 4), "--server_list", server.serverList(),
            "--", binary("vector_add"));

        assertNotEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("bitfusion run: cannot get"), run.output());
        assertFalse(run.output().contains("vector_add"), "the program must not start: " + run.output());
    }

    private static String binary(final String name)
    {
        return BUILT.resolve(name).toString();
    }

    private static Run run(final String... args) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of(ROOT.resolve("bin/bitfusion").toString(), "run"));
        command.addAll(List.of(args));
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        // Same host, but the point is the network path: force UDP in the program's embedded JVM.
        builder.environment().put("BITFUSION_JVM_OPTS", "-Dbitfusion.client.transport=udp");
        builder.environment().remove("BITFUSION_SERVERS");
        final Process process = builder.start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "bitfusion run did not finish: " + output);
        return new Run(process.exitValue(), output);
    }
}
