package dev.bitfusion.benchmarks.transport;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.benchmarks.agent.JCudaSyncProbe;
import dev.bitfusion.benchmarks.agent.StartupProbe;
import dev.bitfusion.server.GpuServer;
import dev.bitfusion.server.ServerErrorLog;
import dev.bitfusion.server.backend.emulated.EmulatedBackend;
import dev.bitfusion.transport.Endpoint;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.DatagramSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * End-to-end benchmark of the bridge (our libcuda.so.1), in one run against one local server:
 * <ul>
 *     <li>one synchronous call from a C program through our libcuda.so.1, beside the same call from Java
 *     RemoteDriver and raw Aeron ping-pong;</li>
 *     <li>the rate of asynchronous cuLaunchKernel calls from a C program that reach the server and run, and
 *     the same through a server with the cuda backend chained to it (its launch path's cost, without a GPU);</li>
 *     <li>the start-up overhead of {@code bitfusion run} on a trivial CUDA program over its own start;</li>
 *     <li>the Java agent: the same synchronous call from a JCuda program under {@code -javaagent} (JCuda, our
 *     libcuda.so.1, JNI back into the agent's runtime), and a trivial JVM's start with and without the agent,
 *     eager (the session opened in premain) and lazy.</li>
 * </ul>
 * Run from the repository root after a build (benchmarks/run does both). Needs gcc and the CUDA headers
 * (and nvcc for the start-up figure); what cannot be built is reported as skipped.
 */
public final class BridgeBenchmark
{
    private static final Path WORK = Path.of("benchmarks", "target", "bridge");
    private static final Path CUDA_INCLUDE = Path.of("/usr/local/cuda/include");
    private static final Path NVCC = Path.of("/usr/local/cuda/bin/nvcc");
    private static final Path NATIVE_LIBRARY_DIR = Path.of("native-bridge", "target", "native");
    private static final Path AGENT = Path.of("cli", "target", "bitfusion-agent.jar");
    private static final int SYNC_CALLS = 20_000;
    private static final int LAUNCHES = 200_000;
    private static final int STARTUP_RUNS = 5;

    private BridgeBenchmark()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        run(System.out);
    }

    /**
     * @param out where the table goes.
     * @return the figures by name, also written to benchmarks/target/bridge-results.json.
     */
    public static Map<String, Double> run(final PrintStream out) throws Exception
    {
        Files.createDirectories(WORK);
        final Map<String, Double> figures = new LinkedHashMap<>();
        final int port;
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            port = socket.getLocalPort();
        }
        final Endpoint endpoint = new Endpoint("127.0.0.1", port);
        try (GpuServer server = GpuServer.launch(new GpuServer.Context()
            .endpoint(endpoint)
            .backend(new EmulatedBackend(1, 1024L << 20))
            .errorLog(new ServerErrorLog(new PrintStream(OutputStream.nullOutputStream())))))
        {
            figures.put("java_remote_driver_sync_call_us", javaSyncCallMicros(endpoint));
            try (AeronPingPong pingPong = new AeronPingPong("ipc"))
            {
                figures.put("aeron_ping_pong_us", pingPongMicros(pingPong));
            }

            final Path bench = WORK.resolve("bridge_bench");
            if (build(List.of("gcc", "-O2", "-I" + CUDA_INCLUDE, source("bridge_bench.c").toString(),
                "-L" + NATIVE_LIBRARY_DIR, "-lcuda", "-o", bench.toString())))
            {
                final String output = runThroughBitfusion(endpoint, bench.toAbsolutePath().toString(),
                    Integer.toString(SYNC_CALLS), Integer.toString(LAUNCHES));
                figures.put("c_bridge_sync_call_us", parse(output, "sync_call_us"));
                figures.put("c_bridge_launches_per_second", parse(output, "launches_per_second"));
                final String chained = throughCudaBackend(endpoint, bench.toAbsolutePath().toString(),
                    Integer.toString(SYNC_CALLS / 10), Integer.toString(LAUNCHES));
                if (chained != null)
                {
                    figures.put("c_cuda_backend_chain_launches_per_second", parse(chained, "launches_per_second"));
                }
            }

            if (Files.isRegularFile(AGENT))
            {
                figures.put("java_agent_jcuda_sync_call_us", parse(runProcess(javaCommand(
                    List.of(agentOption(endpoint, "")), JCudaSyncProbe.class, Integer.toString(SYNC_CALLS)), Map.of()),
                    "sync_call_us"));
                final List<String> plain = javaCommand(List.of(), StartupProbe.class);
                final List<String> eager = javaCommand(List.of(agentOption(endpoint, "")), StartupProbe.class);
                final List<String> lazy = javaCommand(List.of(agentOption(endpoint, ",start=lazy")), StartupProbe.class);
                figures.put("jvm_startup_ms", medianMillis(() -> runProcess(plain, Map.of())));
                figures.put("jvm_startup_agent_eager_ms", medianMillis(() -> runProcess(eager, Map.of())));
                figures.put("jvm_startup_agent_lazy_ms", medianMillis(() -> runProcess(lazy, Map.of())));
            }
            else
            {
                System.err.println("bridge benchmark: skipping the Java agent's figures: no " + AGENT);
            }

            final Path probe = WORK.resolve("startup_probe");
            if (Files.isExecutable(NVCC) && build(List.of(NVCC.toString(), "-O2", "-o", probe.toString(),
                source("startup_probe.cu").toString())))
            {
                final double own = medianMillis(() -> runProcess(List.of(probe.toAbsolutePath().toString()), Map.of()));
                final double through = medianMillis(() ->
                    runThroughBitfusion(endpoint, probe.toAbsolutePath().toString()));
                figures.put("startup_own_ms", own);
                figures.put("startup_through_bitfusion_run_ms", through);
                figures.put("startup_overhead_ms", through - own);
            }
        }

        print(figures, out);
        writeJson(figures, Path.of("benchmarks", "target", "bridge-results.json"));
        return figures;
    }

    private static double javaSyncCallMicros(final Endpoint endpoint)
    {
        try (RemoteDriver driver = new RemoteDriver(
            new ClientSettings().server(endpoint).memoryFraction(0.25), System.out);
            NativeBuffer context = NativeBuffer.allocate(Long.BYTES))
        {
            RemoteSetup.check(driver.cuInit(0), "cuInit");
            RemoteSetup.check(driver.contexts().cuDevicePrimaryCtxRetain(context.address(), 0),
                "cuDevicePrimaryCtxRetain");
            RemoteSetup.check(driver.contexts().cuCtxSetCurrent(context.getLong(0)), "cuCtxSetCurrent");
            return medianOfRounds(() ->
            {
                for (int i = 0; i < SYNC_CALLS; i++)
                {
                    RemoteSetup.check(driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize");
                }
            }, SYNC_CALLS);
        }
    }

    private static double pingPongMicros(final AeronPingPong pingPong)
    {
        return medianOfRounds(() ->
        {
            for (int i = 0; i < SYNC_CALLS; i++)
            {
                pingPong.roundTrip();
            }
        }, SYNC_CALLS);
    }

    /**
     * One warm-up round, then the median of five timed rounds, in microseconds per operation.
     */
    private static double medianOfRounds(final Runnable round, final int operations)
    {
        round.run();
        final double[] micros = new double[5];
        for (int i = 0; i < micros.length; i++)
        {
            final long start = System.nanoTime();
            round.run();
            micros[i] = (System.nanoTime() - start) / 1000.0 / operations;
        }
        Arrays.sort(micros);
        return micros[micros.length / 2];
    }

    private interface Timed
    {
        String run() throws Exception;
    }

    private static double medianMillis(final Timed command) throws Exception
    {
        command.run();
        final double[] millis = new double[STARTUP_RUNS];
        for (int i = 0; i < STARTUP_RUNS; i++)
        {
            final long start = System.nanoTime();
            command.run();
            millis[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(millis);
        return millis[STARTUP_RUNS / 2];
    }

    /**
     * Runs the program against a second server with the cuda backend, whose JCuda calls go through our
     * libcuda.so.1 to the first (the chain CI uses in place of a GPU): every launch then crosses the cuda
     * backend's launch path as well as one more hop.
     *
     * @return the program's output, or null when the chained server did not start.
     */
    private static String throughCudaBackend(final Endpoint server, final String... program) throws Exception
    {
        final int port;
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            port = socket.getLocalPort();
        }
        final Path log = WORK.resolve("cuda-backend-server.log");
        final Process chained = new ProcessBuilder(Path.of("bin", "bitfusion").toAbsolutePath().toString(), "run",
            "-n", "1", "-p", "0.5", "--server_list", server.toString(), "--",
            Path.of("bin", "bitfusion").toAbsolutePath().toString(), "server", "--backend", "cuda",
            "--listen", "127.0.0.1:" + port)
            .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(log).contains("listening on"))
            {
                if (!chained.isAlive() || System.nanoTime() > deadline)
                {
                    System.err.println("bridge benchmark: the cuda backend server did not start:\n" +
                        Files.readString(log));
                    return null;
                }
                Thread.sleep(100);
            }
            return runThroughBitfusion(new Endpoint("127.0.0.1", port), program);
        }
        finally
        {
            chained.destroy();
            if (!chained.waitFor(10, TimeUnit.SECONDS))
            {
                chained.destroyForcibly();
            }
        }
    }

    private static String agentOption(final Endpoint server, final String more)
    {
        return "-javaagent:" + AGENT.toAbsolutePath() + "=servers=" + server + ",p=0.25" + more;
    }

    /** A JVM with an application's class path: the probe's classes and JCuda, nothing of ours. */
    private static List<String> javaCommand(final List<String> options, final Class<?> main, final String... args)
    {
        final List<String> classPath = new ArrayList<>(List.of(Path.of("benchmarks", "target", "classes").toString()));
        for (final String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator))
        {
            if (Path.of(entry).getFileName().toString().startsWith("jcuda"))
            {
                classPath.add(entry);
            }
        }
        final List<String> command = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(options);
        command.addAll(List.of("-cp", String.join(java.io.File.pathSeparator, classPath), main.getName()));
        command.addAll(List.of(args));
        return command;
    }

    private static String runThroughBitfusion(final Endpoint server, final String... program) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of(
            Path.of("bin", "bitfusion").toAbsolutePath().toString(), "run", "-n", "1", "-p", "0.5",
            "--server_list", server.toString(), "--"));
        command.addAll(List.of(program));
        return runProcess(command, Map.of());
    }

    private static String runProcess(final List<String> command, final Map<String, String> environment)
        throws IOException, InterruptedException
    {
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(environment);
        final Process process = builder.start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0)
        {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
        }
        return output;
    }

    private static boolean build(final List<String> command)
    {
        if (!Files.isDirectory(CUDA_INCLUDE) || !Files.isDirectory(NATIVE_LIBRARY_DIR))
        {
            System.err.println("bridge benchmark: skipping " + command.get(command.size() - 1) +
                ": needs " + CUDA_INCLUDE + " and a built " + NATIVE_LIBRARY_DIR);
            return false;
        }
        try
        {
            runProcess(command, Map.of());
            return true;
        }
        catch (final Exception ex)
        {
            System.err.println("bridge benchmark: cannot build: " + ex.getMessage());
            return false;
        }
    }

    private static Path source(final String name)
    {
        return Path.of("benchmarks", "src", "main", "c", name);
    }

    private static double parse(final String output, final String name)
    {
        for (final String line : output.split("\n"))
        {
            if (line.startsWith(name + " "))
            {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new IllegalStateException("no '" + name + "' in the benchmark's output:\n" + output);
    }

    private static void print(final Map<String, Double> figures, final PrintStream out)
    {
        out.println();
        out.println("bitfusion bridge (C and JVM programs through our libcuda.so.1, one local server, same run)");
        final Double c = figures.get("c_bridge_sync_call_us");
        final Double java = figures.get("java_remote_driver_sync_call_us");
        final Double aeron = figures.get("aeron_ping_pong_us");
        out.printf(Locale.ROOT, "  sync call: C via the bridge %s, Java RemoteDriver %.2f us, Aeron ping-pong %.2f us%s%n",
            c == null ? "skipped" : String.format(Locale.ROOT, "%.2f us", c), java, aeron,
            c == null ? "" : String.format(Locale.ROOT, " (C/ping-pong %.2f, Java/ping-pong %.2f)", c / aeron, java / aeron));
        final Double launches = figures.get("c_bridge_launches_per_second");
        out.println("  async cuLaunchKernel from C, executed: " +
            (launches == null ? "skipped" : String.format(Locale.ROOT, "%,.0f /s (goal >= 1,000,000 /s)", launches)));
        final Double chained = figures.get("c_cuda_backend_chain_launches_per_second");
        out.println("  the same through a cuda backend server chained to this one (JCuda on our libcuda.so.1): " +
            (chained == null || launches == null ? "skipped" : String.format(Locale.ROOT, "%,.0f /s (%.2f of direct)",
                chained, chained / launches)));
        final Double agentCall = figures.get("java_agent_jcuda_sync_call_us");
        out.println("  sync call from a JCuda program under -javaagent: " + (agentCall == null ? "skipped" :
            String.format(Locale.ROOT, "%.2f us (C via the bridge %s)", agentCall,
                c == null ? "skipped" : String.format(Locale.ROOT, "%.2f us", c))));
        final Double jvm = figures.get("jvm_startup_ms");
        out.println("  JVM start-up with the agent: " + (jvm == null ? "skipped" : String.format(Locale.ROOT,
            "eager %.0f ms, lazy %.0f ms, without %.0f ms (agent: +%.0f ms eager, +%.0f ms lazy)",
            figures.get("jvm_startup_agent_eager_ms"), figures.get("jvm_startup_agent_lazy_ms"), jvm,
            figures.get("jvm_startup_agent_eager_ms") - jvm, figures.get("jvm_startup_agent_lazy_ms") - jvm)));
        final Double overhead = figures.get("startup_overhead_ms");
        out.println("  bitfusion run start-up overhead: " + (overhead == null ? "skipped" : String.format(Locale.ROOT,
            "%.0f ms (program alone %.0f ms, through bitfusion run %.0f ms; goal <= 250 ms)",
            overhead, figures.get("startup_own_ms"), figures.get("startup_through_bitfusion_run_ms"))));
    }

    private static void writeJson(final Map<String, Double> figures, final Path file) throws IOException
    {
        final StringBuilder json = new StringBuilder("{");
        figures.forEach((name, value) ->
            json.append(json.length() > 1 ? "," : "").append('"').append(name).append("\":")
                .append(String.format(Locale.ROOT, "%.3f", value)));
        Files.writeString(file, json.append("}\n"));
        System.out.println("bridge results: " + file.toAbsolutePath());
    }
}
