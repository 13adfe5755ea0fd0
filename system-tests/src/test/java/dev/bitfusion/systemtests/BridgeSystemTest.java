package dev.bitfusion.systemtests;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.bitfusion.systemtests.CudaExamples.binary;
import static dev.bitfusion.systemtests.CudaExamples.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Unmodified programs from examples/cuda (nvcc-built with static cudart, one with {@code -cudart shared},
 * one driver-API program built with gcc) run through {@code bin/bitfusion run} against a server in its own
 * process, over UDP on loopback; each program checks its own results and prints PASSED, which is asserted
 * together with its exit code.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class BridgeSystemTest
{
    private static final long SERVER_MEMORY_MB = 2048;

    private ServerProcess server;

    /** The output and exit code of one program run. */
    record Run(int exitCode, String output)
    {
    }

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
    void stopServer() throws InterruptedException
    {
        if (server != null)
        {
            server.close();
        }
    }

    /** The examples suite of examples/cuda/manifest.txt, but for the programs checked in tests of their own below. */
    static Stream<Arguments> examplesSuite()
    {
        return CudaExamples.suiteExcept(
            "shared_runtime", "driver_api", "fork_child", "device_printf", "unsupported_memory", "device_info");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examplesSuite")
    void shouldRunSelfVerifyingProgramOnRemoteHalfGpu(final String example, final List<String> arguments,
        final String passed) throws Exception
    {
        final List<String> command = new ArrayList<>(
            List.of("-n", "1", "-p", "0.5", "--server_list", server.serverList(), "--", binary(example)));
        command.addAll(arguments);
        final Run run = run(command.toArray(String[]::new));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains(passed), run.output());
        assertFalse(run.output().contains("FAILED"), run.output());
    }

    @Test
    void shouldLoadTheToolkitsSharedRuntimeAndStillUseOurDriver() throws Exception
    {
        final Run run = run("-n", "1", "-p", "0.5", "--server_list", server.serverList(), "--", binary("shared_runtime"));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains(verdict("shared_runtime")), run.output());
        assertTrue(server.output().stream().anyMatch(line -> line.contains("session") && line.contains("opened")),
            "the program must have used the remote server: " + server.output());
    }

    @Test
    void shouldRunDriverApiProgramBuiltWithGccLoadingPtxAndFatbin() throws Exception
    {
        final Run run = run("-n", "1", "-m", "512", "--server_list", server.serverList(), "--",
            binary("driver_api"), binary("driver_kernels.ptx"), binary("driver_kernels.fatbin"));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains(", 512 MiB"), run.output());
        assertTrue(run.output().contains(verdict("driver_api")), run.output());
    }

    @Test
    void shouldRefuseAForkedChildWhileTheParentGoesOn() throws Exception
    {
        final Run run = run("-n", "1", "-p", "0.5", "--server_list", server.serverList(), "--", binary("fork_child"));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("the child's cuMemAlloc returned 3"), run.output());
        assertTrue(run.output().contains(verdict("fork_child")), run.output());
    }

    @Test
    void shouldReturnNotInitializedWithOneLineWhenTheJvmCannotStart() throws Exception
    {
        final ProcessBuilder builder = new ProcessBuilder(binary("fork_child"), "init").redirectErrorStream(true);
        builder.environment().put("LD_LIBRARY_PATH", CudaExamples.BRIDGE_LIBRARY_DIR.toAbsolutePath().toString());
        builder.environment().remove("BITFUSION_CLASSPATH");
        final Process process = builder.start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertEquals(0, process.waitFor(), output);
        assertTrue(output.contains("fork_child: cuInit returned 3"), output);
        assertEquals(1, output.lines().filter(line -> line.startsWith("bitfusion:")).count(), output);
        assertTrue(output.contains("BITFUSION_CLASSPATH"), output);
    }

    @Test
    void shouldPrintFromTheDeviceToTheTerminal() throws Exception
    {
        final Run run = run("-n", "1", "-p", "0.5", "--server_list", server.serverList(), "--", binary("device_printf"));

        assertEquals(0, run.exitCode(), run.output());
        for (int block = 0; block < 2; block++)
        {
            for (int thread = 0; thread < 3; thread++)
            {
                final String line = "device printf: block " + block + " thread " + thread + " value " + (40 + block * 3 + thread);
                assertTrue(run.output().contains(line), "missing '" + line + "': " + run.output());
            }
        }
        final String output = run.output();
        assertTrue(output.indexOf("host: launching") < output.indexOf("device printf:") &&
            output.lastIndexOf("device printf:") < output.indexOf("device_printf: PASSED"), output);
    }

    @Test
    void shouldRefuseManagedMemoryWithAnErrorTheProgramSees() throws Exception
    {
        final Run run = run("-n", "1", "-p", "0.5", "--server_list", server.serverList(), "--",
            binary("unsupported_memory"));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("cudaMallocManaged: cudaErrorNotSupported"), run.output());
        assertTrue(run.output().contains("cudaHostGetDevicePointer: cudaErrorInvalidValue"), run.output());
        assertTrue(run.output().contains("bitfusion: cuMemAllocManaged is not supported"), run.output());
        assertTrue(run.output().contains(verdict("unsupported_memory")), run.output());
    }

    @Test
    void shouldRunAProgramWithoutPtxUntilItsFirstLaunchAndThenSayWhy() throws Exception
    {
        final Run run = run("-n", "1", "-p", "0.5", "--server_list", server.serverList(), "--",
            binary("vector_add_sm90_only"));

        // Allocations and copies work; the launch fails as on a GPU the program has no machine code for.
        assertEquals(1, run.exitCode(), run.output());
        assertTrue(run.output().contains("FAILED: cudaGetLastError(): no kernel image is available for execution on the device"),
            run.output());
        assertTrue(run.output().contains("bitfusion: library load failed: the fatbin holds no PTX, only machine code for sm_90"),
            run.output());
    }

    @Test
    void shouldRunOneProgramOnTwoGpusAndCopyBetweenThem() throws Exception
    {
        try (ServerProcess twoGpus = ServerProcess.start(SERVER_MEMORY_MB, "--gpus", "2"))
        {
            final Run run = run("-n", "2", "-m", "256", "--server_list", twoGpus.serverList(), "--", binary("multi_gpu"));

            assertEquals(0, run.exitCode(), run.output());
            assertTrue(run.output().contains("multi_gpu: 2 GPUs, copies between them PASSED"), run.output());
        }
    }

    @Test
    void shouldShowTheSliceToTheProgramAndRefuseAllocationsPastIt() throws Exception
    {
        final Run run = run("-n", "1", "-m", "1024", "--server_list", server.serverList(), "--",
            binary("device_info"), "1024");

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("1024 MiB total / 1024 MiB free (cudaMemGetInfo)"), run.output());
        assertTrue(run.output().contains(verdict("device_info")), run.output());
    }

    @Test
    void shouldShowAFractionalSliceToTheProgram() throws Exception
    {
        final Run run = run("-n", "1", "-p", "0.25", "--server_list", server.serverList(), "--",
            binary("device_info"), Long.toString(SERVER_MEMORY_MB / 4));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains(verdict("device_info")), run.output());
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

    @Test
    void shouldTakeTheServerFromTheUsersServersConf(@TempDir final Path home) throws Exception
    {
        Files.createDirectories(home.resolve(".bitfusion"));
        Files.writeString(home.resolve(".bitfusion/servers.conf"),
            "servers:\n  - addresses: [" + server.serverList() + "]\n");
        final Run run;
        try (BitfusionRun command = BitfusionRun.start(
            Map.of("BITFUSION_JAVA_OPTS", "-Duser.home=" + home), "-n", "1", "-p", "0.5", "--", binary("vector_add")))
        {
            assertTrue(command.await(120) >= 0, command.output());
            run = new Run(command.await(1), command.output());
        }

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("vector_add: 4096 elements PASSED"), run.output());
        assertFalse(run.output().contains("embedded local server"), run.output());
        assertTrue(server.output().stream().anyMatch(line -> line.contains("opened")), server.output().toString());
    }

    @Test
    void shouldPassTheProgramsExitCodeOn() throws Exception
    {
        final Run run = run("-n", "1", "-p", "0.5", "--server_list", server.serverList(), "--", "sh", "-c", "exit 7");

        assertEquals(7, run.exitCode(), run.output());
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
