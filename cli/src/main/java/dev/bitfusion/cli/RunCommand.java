package dev.bitfusion.cli;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.agent.javaagent.AgentOptions;
import dev.bitfusion.agent.javaagent.NativeLibraries;
import dev.bitfusion.agent.pool.GpuFilter;
import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.Placement;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.bridge.BridgeRuntime;
import dev.bitfusion.server.GpuServer;
import dev.bitfusion.server.ServerErrorLog;
import dev.bitfusion.server.TokenAuthenticator;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.protocol.SessionStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.io.OutputStream;
import java.net.DatagramSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code bitfusion run}: start an unmodified CUDA program on remote GPU slices.
 * <p>
 * Servers come from {@code --server_list}, else {@code BITFUSION_SERVERS}, else {@code ~/.bitfusion/servers.conf}
 * or {@code /etc/bitfusion/servers.conf} ({@link dev.bitfusion.agent.ServerConfig}); with none, an embedded local server is
 * started for the run (the emulated GPU on a machine without one) and stderr says so.
 * <p>
 * Placement. Every server is asked for its GPUs at once; one that does not answer is skipped with a line on stderr.
 * {@link Placement} orders the places the request fits (all its GPUs on one server when one has them, else across
 * servers), keeping to the GPUs {@code --filter} and {@code -l} allow, and the first whose check below succeeds is
 * the program's: it gets each device's server ({@code BITFUSION_DEVICE_SERVERS}) and GPU index
 * ({@code BITFUSION_GPU_INDICES}) in its environment. A request the pool can never serve (its filters match too few
 * GPUs, or too small ones) fails at once, saying what the pool has.
 * <p>
 * Life of the slice. The slice is held by the program's own session: our libcuda.so.1 (first in the
 * program's library path) opens it on the program's first CUDA call, its client keeps it alive while the
 * program runs, and it is released when the program exits: closed at exit, or freed by the server's
 * liveness timeout when the program dies without closing it (crash, SIGKILL), in which case this command
 * waits, bounded, until the server reports the slice gone before it exits, so a slice is never still held
 * after {@code bitfusion run} returns. Before the program starts, the same slice is opened once as a check,
 * so a slice that cannot be had fails here, with the reason, and the program never starts. That check
 * session is closed right before the program is started rather than kept open until the program's session
 * is up: keeping both would reserve the slice twice, and a {@code -p 0.6} run could then never start. The
 * honest consequence is a window, from that close to the program's first CUDA call, in which another
 * tenant may take the memory; the program then sees cuInit fail with the server's reason on stderr.
 * Handing the reservation itself over to the program would close the window and needs a server-side
 * reservation token (not yet there).
 * <p>
 * The program's directory of our libraries (libcuda.so.1 and the NVML stand-in libnvidia-ml.so.1) comes first
 * in its library path. A JVM program ({@code bitfusion run -- java -jar app.jar}) gets the Java agent through
 * {@code JAVA_TOOL_OPTIONS} instead of a JVM of the bridge's own: the agent loads our libraries into that JVM,
 * whatever {@code JAVA_HOME} says, and reserves the slice at its first CUDA call.
 * <p>
 * Signals to this command (SIGTERM, SIGINT, SIGHUP) are passed on to the program, and its exit code is
 * this command's exit code (128 + signal when it was killed).
 * <p>
 * Thread safety: a command object runs once, on the main thread.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Run a CUDA program on remote GPU slices: bitfusion run -n 1 -p 0.5 -- ./program ARGS")
final class RunCommand implements Callable<Integer>
{
    /** The Java agent's jar, beside the distribution's lib/. */
    static final String AGENT_JAR = "bitfusion-agent.jar";
    /** Names the agent jar explicitly. */
    static final String AGENT_JAR_PROP_NAME = "bitfusion.agent.jar";
    /** How long to wait for a server to free the slice of a program that died without closing it. */
    static final long RELEASE_WAIT_MS_DEFAULT = 15_000;
    private static final int SIGNAL_EXIT_BASE = 128;

    @Option(names = "-n", paramLabel = "N", description = "How many GPUs (default 1, or as many as -l names).")
    Integer gpuCount;

    @Option(names = "-p", paramLabel = "FRACTION", description = "Slice: this fraction of each GPU's memory.")
    Double fraction;

    @Option(names = "-m", paramLabel = "MB", description = "Slice: this many MiB of each GPU's memory.")
    Long megabytes;

    @Option(names = "--server_list", paramLabel = "HOST:PORT,...",
        description = "Servers to use (default: BITFUSION_SERVERS, else an embedded local server).")
    String serverList;

    @Option(names = "--filter", paramLabel = "KEY=VALUE",
        description = "Only GPUs that match; repeatable, all must match. Keys: server.addr, server.hostname, " +
            "server.cuda-version, server.driver-version, device.id, device.name, device.phy-memory (MiB).")
    List<String> filters = new ArrayList<>();

    @Option(names = {"-l", "--gpu_ids"}, paramLabel = "ID,...", split = ",",
        description = "Only the GPUs of these indices (as list_gpus shows them), on whichever server.")
    List<Integer> gpuIds = new ArrayList<>();

    @Option(names = "--encrypt",
        description = "Encrypt the program's requests and replies (needs the server's token); default: BITFUSION_ENCRYPT.")
    boolean encrypt;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The program and its arguments, after --.")
    List<String> command;

    public Integer call() throws Exception
    {
        if (fraction == null && megabytes == null)
        {
            fraction = 1.0;
        }
        if (gpuCount == null)
        {
            gpuCount = gpuIds.isEmpty() ? 1 : (int)gpuIds.stream().distinct().count();
        }
        final List<GpuFilter> gpuFilters = new ArrayList<>();
        try
        {
            for (final String filter : filters)
            {
                gpuFilters.add(GpuFilter.parse(filter));
            }
            if (gpuIds.stream().anyMatch(id -> id < 0))
            {
                throw new IllegalArgumentException("-l takes GPU indices such as 0,2, got " + gpuIds);
            }
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("bitfusion run: " + ex.getMessage());
            return 2;
        }
        try
        {
            encrypt = encrypt || ClientSettings.encryptFrom(System.getenv(), false);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("bitfusion run: " + ex.getMessage());
            return 2;
        }
        List<Endpoint> servers;
        try
        {
            servers = ServerList.resolve(serverList);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("bitfusion run: " + ex.getMessage());
            return 2;
        }
        GpuServer embedded = null;
        if (servers.isEmpty())
        {
            final Endpoint local = new Endpoint("127.0.0.1", freeUdpPort());
            embedded = GpuServer.launch(new GpuServer.Context()
                .endpoint(local)
                .backend(ServerCommand.createBackend("auto", Math.max(1, gpuCount), 16384))
                .authenticator(TokenAuthenticator.acceptAll())
                .errorLog(new ServerErrorLog(System.err, false)));
            System.err.println("bitfusion run: no server configured (--server_list, BITFUSION_SERVERS, servers.conf): " +
                "started an embedded local server on " + local);
            servers = List.of(local);
        }
        try
        {
            return placeAndRun(servers, new Placement.Request(gpuCount, megabytes != null ? 0 : fraction,
                megabytes != null ? megabytes : 0, gpuFilters, Set.copyOf(gpuIds)), embedded == null);
        }
        finally
        {
            if (embedded != null)
            {
                embedded.close();
            }
        }
    }

    /**
     * Ask the whole pool at once, then try the places the request fits, best first (see {@link Placement}); a
     * place taken by another client since its server answered is left for the next.
     */
    private int placeAndRun(final List<Endpoint> servers, final Placement.Request request, final boolean awaitRelease)
        throws Exception
    {
        final List<Placement.ServerState> pool = new ArrayList<>();
        for (final PoolQuery.Answer answer : PoolQuery.listGpusOfAll(
            servers, ClientSettings.discoverQueryCredentials(), ClientSettings.OPEN_TIMEOUT_NS_DEFAULT))
        {
            if (answer.gpus() != null)
            {
                pool.add(new Placement.ServerState(answer.server(), answer.gpus()));
            }
            else
            {
                System.err.println("bitfusion run: server " + answer.server() + " unreachable: " + answer.error() +
                    "; skipped");
            }
        }
        if (pool.isEmpty())
        {
            System.err.println("bitfusion run: cannot get " + describeSlice() + ": " +
                (servers.size() == 1 ? "the server did not answer" : "none of the " + servers.size() + " servers answered"));
            return 3;
        }
        final String never = Placement.whyNeverFits(pool, request);
        if (never != null)
        {
            System.err.println("bitfusion run: cannot get " + describeSlice() + ": " + never);
            return 3;
        }
        final List<Placement.Candidate> candidates = Placement.candidates(pool, request);
        if (candidates.isEmpty())
        {
            System.err.println("bitfusion run: cannot get " + describeSlice() + ": " + Placement.whyNoFit(pool, request));
            return 3;
        }
        for (int i = 0; i < candidates.size(); i++)
        {
            final Placement.Candidate candidate = candidates.get(i);
            // Closed right before the program starts (see the class comment); closing again is harmless.
            try (RemoteDriver check = new RemoteDriver(settings(candidate),
                new PrintStream(OutputStream.nullOutputStream()), new PrintStream(OutputStream.nullOutputStream())))
            {
                final String refused = checkSlice(check);
                if (refused != null)
                {
                    // The server had room when it answered: SLICE_UNAVAILABLE now means another client took it.
                    if (refused.contains(SessionStatus.SLICE_UNAVAILABLE.name()) && i + 1 < candidates.size())
                    {
                        System.err.println("bitfusion run: " + candidate.describeServers() + " has no room any more (" +
                            refused + "); trying " + candidates.get(i + 1).describeServers());
                        continue;
                    }
                    System.err.println("bitfusion run: cannot get " + describeSlice() + " from " +
                        candidate.describeServers() + ": " + refused);
                    return 3;
                }
                final String tag = "bitfusion run " + UUID.randomUUID();
                final int exitCode = runProgram(candidate, check, tag);
                if (awaitRelease && exitCode != 0)
                {
                    for (final Endpoint server : candidate.servers())
                    {
                        awaitRelease(server, tag);
                    }
                }
                return exitCode;
            }
        }
        throw new IllegalStateException("the last candidate runs the program or fails");
    }

    private String describeSlice()
    {
        return gpuCount + " GPU" + (gpuCount == 1 ? "" : "s") + " with " +
            (megabytes != null ? megabytes + " MiB" : fraction + " of the memory") + " each";
    }

    private ClientSettings settings(final Placement.Candidate candidate)
    {
        final ClientSettings settings = new ClientSettings()
            .gpuCount(gpuCount)
            .gpuIndices(candidate.gpuIndices().stream().mapToInt(Integer::intValue).toArray())
            .deviceServers(candidate.devices().stream().map(Placement.Device::server).toArray(Endpoint[]::new))
            .encrypt(encrypt);
        candidate.servers().forEach(settings::server);
        if (megabytes != null)
        {
            settings.memoryMb(megabytes);
        }
        else
        {
            settings.memoryFraction(fraction);
        }
        return settings;
    }

    /** Open the slice as a check; the caller closes it right before the program starts. */
    private static String checkSlice(final RemoteDriver probe)
    {
        try
        {
            final int status = probe.cuInit(0);
            if (status != CuResult.CUDA_SUCCESS)
            {
                return probe.lastError() != null ? probe.lastError() : CuResult.name(status);
            }
            return null;
        }
        catch (final RuntimeException ex)
        {
            return ex.getMessage();
        }
    }

    /**
     * A program that died without closing its session leaves the slice to the server's liveness timeout:
     * wait for that, bounded, so the slice is free once this command returns, and say so when it is not.
     */
    private static void awaitRelease(final Endpoint server, final String tag) throws InterruptedException
    {
        final String clientIdSuffix = " [" + tag + "]";
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RELEASE_WAIT_MS_DEFAULT);
        while (true)
        {
            try
            {
                final GpuPoolInfo pool = PoolQuery.listGpus(
                    server, ClientSettings.discoverQueryCredentials(), tag, TimeUnit.SECONDS.toNanos(1));
                if (pool.gpus().stream().flatMap(gpu -> gpu.slices().stream())
                    .noneMatch(slice -> slice.clientId().endsWith(clientIdSuffix)))
                {
                    return;
                }
            }
            catch (final RuntimeException ex)
            {
                return; // The server is gone or unreachable: it holds nothing we could wait for.
            }
            if (System.nanoTime() > deadlineNs)
            {
                System.err.println("bitfusion run: " + server + " still holds the program's slice " +
                    RELEASE_WAIT_MS_DEFAULT + " ms after it exited; the server frees it when its lease expires");
                return;
            }
            Thread.sleep(100);
        }
    }

    private int runProgram(final Placement.Candidate candidate, final RemoteDriver check, final String tag)
        throws IOException, InterruptedException
    {
        final Path libraryDir = NativeLibraries.extract(RunCommand.class);
        final ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        final Map<String, String> environment = builder.environment();
        final String inherited = environment.get("LD_LIBRARY_PATH");
        environment.put("LD_LIBRARY_PATH", libraryDir + (inherited == null || inherited.isEmpty() ? "" : ":" + inherited));
        environment.put(ClientSettings.SERVERS_ENV_NAME,
            candidate.servers().stream().map(Endpoint::toString).collect(Collectors.joining(",")));
        environment.put(ClientSettings.GPU_COUNT_ENV_NAME, Integer.toString(gpuCount));
        environment.put(ClientSettings.GPU_INDICES_ENV_NAME,
            candidate.gpuIndices().stream().map(String::valueOf).collect(Collectors.joining(",")));
        environment.put(ClientSettings.DEVICE_SERVERS_ENV_NAME,
            candidate.devices().stream().map(device -> device.server().toString()).collect(Collectors.joining(",")));
        environment.remove(ClientSettings.MEMORY_FRACTION_ENV_NAME);
        environment.remove(ClientSettings.MEMORY_MB_ENV_NAME);
        if (megabytes != null)
        {
            environment.put(ClientSettings.MEMORY_MB_ENV_NAME, Long.toString(megabytes));
        }
        else
        {
            environment.put(ClientSettings.MEMORY_FRACTION_ENV_NAME, Double.toString(fraction));
        }
        environment.put(BridgeRuntime.CLASSPATH_ENV_NAME, absoluteClassPath());
        environment.put(ClientSettings.CLIENT_ID_ENV_NAME, tag);
        environment.put(ClientSettings.ENCRYPT_ENV_NAME, encrypt ? "1" : "0");
        environment.put("BITFUSION_JAVA_HOME", System.getProperty("java.home"));
        // A JVM program (and every JVM a script starts) takes the agent: it joins that JVM rather than starting
        // one of its own, and reserves lazily there, so helper JVMs that never touch a GPU hold nothing.
        final Path agent = agentJar();
        if (agent != null)
        {
            final String tools = environment.get(AgentOptions.JAVA_TOOL_OPTIONS_ENV_NAME);
            environment.put(AgentOptions.JAVA_TOOL_OPTIONS_ENV_NAME, "-javaagent:" + agent +
                (tools == null || tools.isBlank() ? "" : " " + tools));
        }

        final Process process;
        try
        {
            check.close();
            process = builder.start();
        }
        catch (final IOException ex)
        {
            System.err.println("bitfusion run: cannot start " + command.get(0) + ": " + ex.getMessage());
            return 127;
        }
        // SIGTERM/SIGHUP/SIGINT to us reach the program: the JVM runs this hook on each of them.
        final Thread forward = new Thread(() ->
        {
            if (process.isAlive())
            {
                process.destroy();
                try
                {
                    process.waitFor();
                }
                catch (final InterruptedException ignore)
                {
                    Thread.currentThread().interrupt();
                }
            }
        }, "bitfusion-run-signal-forward");
        Runtime.getRuntime().addShutdownHook(forward);
        final int exitCode = process.waitFor();
        try
        {
            Runtime.getRuntime().removeShutdownHook(forward);
        }
        catch (final IllegalStateException ignore)
        {
            // Already shutting down: the hook is running and the program has exited.
        }
        return exitCode;
    }

    private static String absoluteClassPath()
    {
        return Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
            .map(entry -> Path.of(entry).toAbsolutePath().toString())
            .collect(Collectors.joining(java.io.File.pathSeparator));
    }

    /**
     * The Java agent, for JVM programs: beside the distribution's {@code lib/} (cli/target in a build tree), or
     * where {@code -Dbitfusion.agent.jar} says.
     *
     * @return the agent jar, or null when there is none.
     */
    static Path agentJar()
    {
        final String configured = System.getProperty(AGENT_JAR_PROP_NAME);
        if (configured != null && !configured.isBlank())
        {
            return Path.of(configured).toAbsolutePath();
        }
        try
        {
            final Path jar = Path.of(RunCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            final Path agent = jar.toAbsolutePath().getParent().resolveSibling(AGENT_JAR);
            return Files.isRegularFile(agent) ? agent : null;
        }
        catch (final java.net.URISyntaxException | RuntimeException ex)
        {
            return null;
        }
    }

    private static int freeUdpPort() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            return socket.getLocalPort();
        }
    }
}
