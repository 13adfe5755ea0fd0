package dev.bitfusion.systemtests;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.systemtests.jvmapps.CpuFallback;
import dev.bitfusion.systemtests.jvmapps.DjlGpuDetection;
import dev.bitfusion.systemtests.jvmapps.JCudaRuntimeCopies;
import dev.bitfusion.systemtests.jvmapps.JCudaVectorAdd;
import dev.bitfusion.systemtests.jvmapps.JavaCppCudartCopies;
import dev.bitfusion.systemtests.jvmapps.JavaCppNvmlQuery;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * JVM GPU applications under the Java agent ({@code -javaagent:bitfusion-agent.jar}) against a real server
 * process on the emulated GPU: JCuda's driver and runtime APIs, JavaCPP's CUDA presets, JavaCPP's NVML preset
 * and a C NVML client, DJL's GPU detection, each program checking its own results and printing PASSED. Every run must end with its
 * slice freed at once: the server says "closed by client" for the program's session, and {@code list_gpus}
 * shows no slice right after the JVM exits, whether {@code main} returned, {@code System.exit} was called or
 * SIGTERM arrived. The application's class path holds only the stack it uses; everything of ours comes
 * from the agent jar.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JavaAgentSystemTest
{
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Path AGENT = ROOT.resolve("cli/target/bitfusion-agent.jar");
    private static final Path PTX = ROOT.resolve("emulator/src/test/resources/kernels/vector_add.ptx");
    private static final Path CUDA_LIBRARIES = CudaExamples.CUDA_HOME.resolve("lib64");
    private static final long SLICE_MB = 512;

    private static ServerProcess server;
    private final List<Process> started = new ArrayList<>();

    /** One JVM's end: its exit code, what it printed, and its pid. */
    record Run(int exitCode, String output, long pid)
    {
    }

    @BeforeAll
    static void startServer() throws Exception
    {
        assumeTrue(Files.isRegularFile(AGENT), "the agent jar is not built: " + AGENT);
        server = ServerProcess.start(2048);
    }

    @AfterAll
    static void stopServer() throws InterruptedException
    {
        if (server != null)
        {
            server.close();
        }
    }

    @AfterEach
    void killLeftovers()
    {
        started.forEach(Process::destroyForcibly);
    }

    @Test
    void shouldRunAJCudaDriverApiProgramWhoseMainReturnsAndFreeTheSliceAtOnce() throws Exception
    {
        final Run run = runUnderAgent("m=" + SLICE_MB, JCudaVectorAdd.class, PTX.toString(), "return");

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("JCudaVectorAdd: 4096 elements on Bitfusion Emulated GPU PASSED"), run.output());
        assertTrue(run.output().contains("reserved now"), "eager by default: " + run.output());
        assertSliceClosedByClient(run);
    }

    @Test
    void shouldKeepTheSessionForTheApplicationsShutdownHookWhenItCallsSystemExit() throws Exception
    {
        final Run run = runUnderAgent("m=" + SLICE_MB, JCudaVectorAdd.class, PTX.toString(), "exit");

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("PASSED"), run.output());
        assertTrue(run.output().contains("JCudaVectorAdd: CUDA works in the application's shutdown hook"), run.output());
        assertSliceClosedByClient(run);
    }

    @Test
    void shouldFreeTheSliceWhenTheJvmIsSentSigterm() throws Exception
    {
        final Process process = start(agentCommand("m=" + SLICE_MB, JCudaVectorAdd.class, PTX.toString(), "wait"), Map.of());
        final StringBuilder output = new StringBuilder();
        final Thread reader = collect(process, output);
        awaitLine(output, "JCudaVectorAdd: READY");
        assertEquals(1, slices(), "the slice is held while the program runs");

        process.destroy();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), output.toString());
        reader.join(5_000);
        final Run run = new Run(process.exitValue(), output.toString(), process.pid());

        assertEquals(128 + 15, run.exitCode(), run.output());
        assertTrue(run.output().contains("PASSED"), run.output());
        assertSliceClosedByClient(run);
    }

    @Test
    void shouldRunAJCudaRuntimeApiProgram() throws Exception
    {
        final Run run = runUnderAgent("m=" + SLICE_MB, JCudaRuntimeCopies.class, Long.toString(SLICE_MB));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("JCudaRuntimeCopies: Bitfusion Emulated GPU, 512 MiB, copies and memset PASSED"),
            run.output());
        assertSliceClosedByClient(run);
    }

    @Test
    void shouldRunAProgramOnJavaCppsCudaPresets() throws Exception
    {
        assumeTrue(Files.isDirectory(CUDA_LIBRARIES), "JavaCPP's cudart needs the toolkit's libcudart.so.13: " + CUDA_LIBRARIES);
        final Run run = run(agentCommand("m=" + SLICE_MB, JavaCppCudartCopies.class, Long.toString(SLICE_MB)),
            Map.of("LD_LIBRARY_PATH", CUDA_LIBRARIES.toString()));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("JavaCppCudartCopies: Bitfusion Emulated GPU, 512 MiB, copies and memset PASSED"),
            run.output());
        assertSliceClosedByClient(run);
    }

    @Test
    void shouldShowTheSliceToJavaCppsNvmlPreset() throws Exception
    {
        final Run run = runUnderAgent("m=" + SLICE_MB, JavaCppNvmlQuery.class, Long.toString(SLICE_MB));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("JavaCppNvmlQuery: 1 GPU: Bitfusion Emulated GPU, 512 MiB total"), run.output());
        assertTrue(run.output().contains("JavaCppNvmlQuery: PASSED"), run.output());
        assertSliceClosedByClient(run);
    }

    @Test
    void shouldShowTheSliceToACNvmlClientUnderBitfusionRun() throws Exception
    {
        final Path client = buildNvmlClient();
        final Run run = run(List.of(ROOT.resolve("bin/bitfusion").toString(), "run", "-m", Long.toString(SLICE_MB),
            "--server_list", server.serverList(), "--", client.toString(), Long.toString(SLICE_MB)), Map.of());

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("1 GPU: Bitfusion Emulated GPU GPU-"), run.output());
        assertTrue(run.output().contains("512 MiB total"), run.output());
        assertTrue(run.output().contains("nvml_client: temperature: Not Supported"), run.output());
        assertEquals(1, run.output().lines().filter(line -> line.contains("nvmlDeviceGetTemperature is not supported")).count(),
            run.output());
        assertTrue(run.output().contains("nvml_client: PASSED"), run.output());
        assertEquals(0, slices(), "bitfusion run returns once the slice is free");
    }

    @Test
    void shouldRunAJvmProgramUnderBitfusionRunWhenJavaHomeNamesAnotherJdk() throws Exception
    {
        final Path otherJdk = otherJdk();
        assumeTrue(otherJdk != null, "no second JDK under /usr/lib/jvm");
        final List<String> command = new ArrayList<>(List.of(ROOT.resolve("bin/bitfusion").toString(), "run",
            "-m", Long.toString(SLICE_MB), "--server_list", server.serverList(), "--"));
        command.addAll(javaCommand(List.of(), JCudaVectorAdd.class, PTX.toString(), "return"));
        final Run run = run(command, Map.of("JAVA_HOME", otherJdk.toString()));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("JCudaVectorAdd: 4096 elements on Bitfusion Emulated GPU PASSED"), run.output());
        assertTrue(run.output().contains("reserved at the first CUDA call (lazy)"), run.output());
        assertFalse(run.output().contains("SIGSEGV"), run.output());
        assertEquals(0, slices(), "bitfusion run returns once the slice is free");
        assertTrue(server.output().stream().anyMatch(line -> line.contains("[bitfusion run") && line.contains("closed by client")),
            server.output().toString());
    }

    @Test
    void shouldExitBeforeMainWithTheReasonWhenNoServerAnswers() throws Exception
    {
        final Run run = runUnderAgent("servers=127.0.0.1:" + ServerProcess.freeUdpPort() + ",on_no_server=exit",
            CpuFallback.class);

        assertEquals(3, run.exitCode(), run.output());
        assertTrue(run.output().contains("bitfusion agent: cannot get 1 GPU"), run.output());
        assertTrue(run.output().contains("exiting before main"), run.output());
        assertFalse(run.output().contains("CpuFallback:"), "main must not run: " + run.output());
    }

    @Test
    void shouldGoOnWithoutGpusWhenConfiguredSo() throws Exception
    {
        final Run run = runUnderAgent("servers=127.0.0.1:" + ServerProcess.freeUdpPort() + ",on_no_server=continue",
            CpuFallback.class);

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("going on without GPUs (on_no_server=continue)"), run.output());
        assertTrue(run.output().contains("CpuFallback: no GPU (CUDA_ERROR_NO_DEVICE), running on the CPU PASSED"), run.output());
    }

    @Test
    void shouldLetDjlSeeTheRemoteGpuWhereItFindsNoCudaRuntime() throws Exception
    {
        // A client machine without the toolkit: its CUDA runtime directory hidden in a mount namespace of the JVM's own.
        final Path runtime = CUDA_LIBRARIES.toRealPath();
        final List<String> hide = List.of("unshare", "-m", "sh", "-c", "mount -t tmpfs none " + runtime + " && exec \"$0\" \"$@\"");
        final Run probe = run(List.of("unshare", "-m", "true"), Map.of());
        assumeTrue(probe.exitCode() == 0, "no mount namespaces here: " + probe.output());

        final List<String> without = new ArrayList<>(hide);
        without.addAll(javaCommand(List.of(), DjlGpuDetection.class, "0"));
        final Run plain = run(without, Map.of());
        final List<String> with = new ArrayList<>(hide);
        with.addAll(agentCommand("m=" + SLICE_MB, DjlGpuDetection.class, "1"));
        final Run advised = run(with, Map.of());

        assertEquals(0, plain.exitCode(), "without the agent DJL finds no GPU: " + plain.output());
        assertTrue(plain.output().contains("DjlGpuDetection: 0 GPU, CUDA absent"), plain.output());
        assertEquals(0, advised.exitCode(), advised.output());
        assertTrue(advised.output().contains("DjlGpuDetection: 1 GPU, CUDA 130"), advised.output());
        assertTrue(advised.output().contains("DjlGpuDetection: PASSED"), advised.output());
        assertSliceClosedByClient(advised);
    }

    @Test
    void shouldStayOutWhenADriverIsAlreadyLoaded() throws Exception
    {
        // A libcuda mapped before premain (here preloaded) is the driver whatever the agent does.
        final Path preloaded = CudaExamples.BRIDGE_LIBRARY_DIR.resolve("libcuda.so.1").toAbsolutePath();
        final Run run = run(agentCommand("m=" + SLICE_MB, CpuFallback.class), Map.of("LD_PRELOAD", preloaded.toString()));

        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("bitfusion agent: a CUDA driver is already loaded in this JVM (" + preloaded +
            "), so it stays the driver and the agent does nothing"), run.output());
        assertTrue(run.output().contains("CpuFallback: no GPU"), run.output());
        assertEquals(0, slices(), "the agent reserved nothing");
    }

    private Run runUnderAgent(final String options, final Class<?> main, final String... args) throws Exception
    {
        return run(agentCommand(options, main, args), Map.of());
    }

    private static List<String> agentCommand(final String options, final Class<?> main, final String... args)
    {
        final String servers = options.contains("servers=") ? "" : "servers=" + server.serverList() + ",";
        return javaCommand(List.of("-javaagent:" + AGENT + "=" + servers + options), main, args);
    }

    /** A JVM with only the application's own class path: the test's classes and the GPU stacks' jars. */
    private static List<String> javaCommand(final List<String> options, final Class<?> main, final String... args)
    {
        final String stacks = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(entry -> entry.endsWith("test-classes") || Path.of(entry).getFileName().toString()
                .matches("(jcuda|jcuda-natives|javacpp|cuda|api|jna|slf4j-api|gson|commons-compress|commons-io|commons-lang3)-[0-9].*\\.jar"))
            .collect(Collectors.joining(File.pathSeparator));
        final List<String> command = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(options);
        command.addAll(List.of("-cp", stacks, main.getName()));
        command.addAll(List.of(args));
        return command;
    }

    private Run run(final List<String> command, final Map<String, String> environment) throws Exception
    {
        final Process process = start(command, environment);
        final StringBuilder output = new StringBuilder();
        final Thread reader = collect(process, output);
        assertTrue(process.waitFor(90, TimeUnit.SECONDS), "the JVM did not exit: " + output);
        reader.join(5_000);
        synchronized (output)
        {
            return new Run(process.exitValue(), output.toString(), process.pid());
        }
    }

    private Process start(final List<String> command, final Map<String, String> environment) throws IOException
    {
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("BITFUSION_SERVERS");
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().putAll(environment);
        final Process process = builder.start();
        started.add(process);
        return process;
    }

    private static Thread collect(final Process process, final StringBuilder output)
    {
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = in.readLine()) != null)
                {
                    synchronized (output)
                    {
                        output.append(line).append('\n');
                        output.notifyAll();
                    }
                }
            }
            catch (final IOException ignore)
            {
                // The process ended; what it printed is kept.
            }
        }, "jvm-app-output");
        reader.setDaemon(true);
        reader.start();
        return reader;
    }

    private static void awaitLine(final StringBuilder output, final String line) throws InterruptedException
    {
        final long deadlineMs = System.currentTimeMillis() + 60_000;
        synchronized (output)
        {
            while (!output.toString().contains(line))
            {
                final long leftMs = deadlineMs - System.currentTimeMillis();
                assertTrue(leftMs > 0, "no '" + line + "' in: " + output);
                output.wait(leftMs);
            }
        }
    }

    /**
     * The slice was let go by the program, not by the server's liveness timeout: listed as free right after the
     * JVM exited, and the session's end said so.
     */
    private static void assertSliceClosedByClient(final Run run) throws Exception
    {
        assertEquals(0, slices(), "the slice must be free as soon as the JVM has exited");
        final String client = ":" + run.pid() + " ";
        final long deadlineMs = System.currentTimeMillis() + 2_000;
        while (server.output().stream().noneMatch(line -> line.contains(client) && line.contains("closed by client")))
        {
            assertTrue(System.currentTimeMillis() < deadlineMs,
                "no 'closed by client' for pid " + run.pid() + ": " + server.output());
            Thread.sleep(50);
        }
    }

    private static int slices()
    {
        final GpuPoolInfo pool = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));
        return pool.gpus().stream().mapToInt(gpu -> gpu.slices().size()).sum();
    }

    private static Path buildNvmlClient() throws Exception
    {
        final Path source = ROOT.resolve("system-tests/src/test/c/nvml_client.c");
        final Path binary = ROOT.resolve("system-tests/target/nvml_client");
        final Process gcc = new ProcessBuilder("gcc", "-O2", "-o", binary.toString(), source.toString(),
            "-L" + CudaExamples.BRIDGE_LIBRARY_DIR, "-l:libnvidia-ml.so.1").redirectErrorStream(true).start();
        final String text = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, gcc.waitFor(), "gcc: " + text);
        return binary;
    }

    /** A JDK other than the one running the tests, as a user's JAVA_HOME may name. */
    private static Path otherJdk() throws IOException
    {
        final Path running = Path.of(System.getProperty("java.home")).toRealPath();
        final Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms))
        {
            return null;
        }
        try (Stream<Path> candidates = Files.list(jvms))
        {
            return candidates.filter(jdk -> Files.isRegularFile(jdk.resolve("lib/server/libjvm.so")))
                .filter(jdk ->
                {
                    try
                    {
                        return !jdk.toRealPath().equals(running);
                    }
                    catch (final IOException ex)
                    {
                        return false;
                    }
                })
                .max(java.util.Comparator.naturalOrder()).orElse(null);
        }
    }
}
