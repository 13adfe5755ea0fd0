package dev.bitfusion.cli;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.pool.GpuFilter;
import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.Placement;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.agent.pool.ReservationHolder;
import dev.bitfusion.server.GpuServer;
import dev.bitfusion.server.ServerErrorLog;
import dev.bitfusion.server.TokenAuthenticator;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.protocol.SessionStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.net.DatagramSocket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * {@code bitfusion run}: start an unmodified CUDA program on remote GPU slices.
 * <p>
 * Servers come from {@code --server_list}, else {@code BITFUSION_SERVERS}, else {@code ~/.bitfusion/servers.conf}
 * or {@code /etc/bitfusion/servers.conf} ({@link dev.bitfusion.agent.ServerConfig}); with none, an embedded local server is
 * started for the run (the emulated GPU on a machine without one) and stderr says so.
 * <p>
 * Placement. Every server is asked for its GPUs at once; one that does not answer is skipped with a line on stderr.
 * {@link Placement} orders the places the request fits (all its GPUs on one server when one has them, else across
 * servers), keeping to the GPUs {@code --filter} and {@code -l} allow, and the first whose reservation succeeds is
 * the program's: it gets each device's server ({@code BITFUSION_DEVICE_SERVERS}) and GPU index
 * ({@code BITFUSION_GPU_INDICES}) in its environment. When none can be had now, {@code --timeout SECONDS} waits in
 * line for room on the servers (see the server's WaitLine), asking the pool again every second; a request the pool
 * can never serve (its filters match too few GPUs, or too small ones) fails at once, saying what the pool has.
 * <p>
 * Life of the slice. Before the program starts, this command reserves the slices ({@link ReservationHolder}: one
 * hold-only session per GPU, which takes the slice and has no device context) and holds them until the program has
 * exited, whether or not the program ever opens a session, so no other job can take them meanwhile. A slice that
 * cannot be had fails here, with the server's reason, and the program never starts. The program and every process it
 * starts (a script's children, torchrun's workers) get the reservations in {@code BITFUSION_RESERVATIONS}: their
 * sessions attach to them and share each slice, their allocations together limited by it, and never take fresh
 * capacity. When this command ends (the program exited, or this command was killed and the servers noticed), the
 * servers end the sessions still attached and free the slices; a slice is never still held after this command
 * returns normally. The holder process of {@code request_gpus} ({@link GpuHolder}) places and holds its GPUs through
 * this command too ({@link #onHeldGpus}), keeping them for later commands instead of running a program.
 * <p>
 * The program is started by {@link ProgramLauncher}: the directory of our libraries (libcuda.so.1 and the NVML
 * stand-in libnvidia-ml.so.1) comes first in its library path. A JVM program
 * ({@code bitfusion run -- java -jar app.jar}) gets the Java agent through {@code JAVA_TOOL_OPTIONS} instead of a JVM
 * of the bridge's own: the agent loads our libraries into that JVM, whatever {@code JAVA_HOME} says.
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
    /** How long to wait for a server to free the slice of a program that died without closing it. */
    static final long RELEASE_WAIT_MS_DEFAULT = 15_000;
    /** How often a waiting run asks the pool again, which also keeps its place in line (a place lapses after 3 s). */
    private static final long WAIT_POLL_MS = 1000;
    /** How much of the command the servers' listings show (smi, list_gpus for an administrator). */
    private static final int COMMAND_SHOWN_CHARS = 60;

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

    @Option(names = "--timeout", paramLabel = "SECONDS",
        description = "When the pool has no room now, wait in line up to this long (default 0: fail at once).")
    long timeoutSeconds;

    @Option(names = "--encrypt",
        description = "Encrypt the program's requests and replies (needs the server's token); default: BITFUSION_ENCRYPT.")
    boolean encrypt;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The program and its arguments, after --.")
    List<String> command;

    /** The command's name in what it prints and in the tag and client id of its holder: {@code request_gpus} too. */
    String name = "run";

    /**
     * What a command does with the GPUs once they are held: {@code run} runs its program on them, the holder of
     * {@code request_gpus} keeps them for later commands ({@link GpuHolder}).
     */
    @FunctionalInterface
    interface HeldJob
    {
        /**
         * @param gpus   what is held, as the job's processes are told.
         * @param holder holds it, until this returns.
         * @return the command's exit code.
         */
        int run(HeldGpus gpus, ReservationHolder holder) throws Exception;
    }

    public Integer call() throws Exception
    {
        return onHeldGpus(this::runProgram);
    }

    /**
     * Place the request over the pool, hold the GPUs, and do a job on them.
     *
     * @param job what to do while the GPUs are held.
     * @return the exit code: the job's, else why the GPUs could not be had.
     */
    int onHeldGpus(final HeldJob job) throws Exception
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
            encrypt = encrypt || ClientSettings.encryptFrom(System.getenv(), false);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("bitfusion " + name + ": " + ex.getMessage());
            return 2;
        }
        List<Endpoint> servers;
        try
        {
            servers = ServerList.resolve(serverList);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("bitfusion " + name + ": " + ex.getMessage());
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
            System.err.println("bitfusion " + name + ": no server configured (--server_list, BITFUSION_SERVERS, " +
                "servers.conf): started an embedded local server on " + local);
            servers = List.of(local);
        }
        try
        {
            return placeAndRun(servers, new Placement.Request(gpuCount, megabytes != null ? 0 : fraction,
                megabytes != null ? megabytes : 0, gpuFilters, Set.copyOf(gpuIds)), embedded == null, job);
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
     * Reserve the slices (waiting for room up to {@code --timeout}), do the job on them, release them.
     */
    private int placeAndRun(final List<Endpoint> servers, final Placement.Request request, final boolean awaitRelease,
        final HeldJob job) throws Exception
    {
        final String tag = "bitfusion " + name + " " + UUID.randomUUID();
        final ReservationHolder holder = reserve(servers, request, tag);
        if (holder == null)
        {
            return 3;
        }
        final int exitCode;
        try
        {
            exitCode = job.run(new HeldGpus(holder.servers(), Arrays.stream(holder.gpuIndices()).boxed().toList(),
                holder.reservations(), megabytes != null ? 0 : fraction, megabytes != null ? megabytes : 0, tag, encrypt),
                holder);
        }
        finally
        {
            holder.close();
        }
        if (awaitRelease)
        {
            for (final Endpoint server : new LinkedHashSet<>(holder.servers()))
            {
                awaitRelease(server, tag);
            }
        }
        return exitCode;
    }

    /**
     * Ask the whole pool at once, then try the places the request fits, best first (see {@link Placement}); a place
     * taken by another client since its server answered is left for the next. When none can be had now, wait in
     * line for room on every server that could ever hold the slice, asking again every second, until one can or
     * {@code --timeout} passes; a request that could never fit fails at once.
     *
     * @return the slices held, or null when they cannot be had (said on stderr).
     */
    private ReservationHolder reserve(final List<Endpoint> servers, final Placement.Request request, final String tag)
        throws InterruptedException
    {
        final long startNs = System.nanoTime();
        final long deadlineNs = startNs + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        final Set<Endpoint> reportedUnreachable = new HashSet<>();
        PoolQuery.WaitTicket ticket = null;
        while (true)
        {
            final List<PoolQuery.Answer> answers = PoolQuery.listGpusOfAll(
                servers, ClientSettings.discoverQueryCredentials(), ticket, ClientSettings.OPEN_TIMEOUT_NS_DEFAULT);
            final List<Placement.ServerState> pool = new ArrayList<>();
            for (final PoolQuery.Answer answer : answers)
            {
                if (answer.gpus() != null)
                {
                    pool.add(new Placement.ServerState(answer.server(), answer.gpus()));
                }
                else if (reportedUnreachable.add(answer.server()))
                {
                    System.err.println("bitfusion " + name + ": server " + answer.server() + " unreachable: " +
                        answer.error() + "; skipped");
                }
            }
            String why;
            if (pool.isEmpty())
            {
                why = servers.size() == 1 ? "the server did not answer" :
                    "none of the " + servers.size() + " servers answered";
            }
            else
            {
                final String never = Placement.whyNeverFits(pool, request);
                if (never != null && pool.size() == servers.size())
                {
                    leaveLine(servers, ticket);
                    System.err.println("bitfusion " + name + ": cannot get " + describeSlice() + ": " + never);
                    return null;
                }
                final List<Placement.Candidate> candidates = Placement.candidates(pool, request);
                why = candidates.isEmpty() ? Placement.whyNoFit(pool, request) : null;
                for (int i = 0; i < candidates.size(); i++)
                {
                    final Placement.Candidate candidate = candidates.get(i);
                    final int ahead = waitersAhead(answers, candidate.servers(), ticket);
                    if (ahead > 0)
                    {
                        why = ahead + (ahead == 1 ? " request waits" : " requests wait") + " ahead of this one on " +
                            candidate.describeServers();
                        continue;
                    }
                    try
                    {
                        final ReservationHolder holder = ReservationHolder.hold(
                            candidate.devices().stream().map(Placement.Device::server).toList(),
                            candidate.gpuIndices().stream().mapToInt(Integer::intValue).toArray(),
                            holderSettings(tag, ticket));
                        leaveLine(servers, ticket);
                        return holder;
                    }
                    catch (final RuntimeException ex)
                    {
                        final String refused = ex.getMessage();
                        // The server had room when it answered: SLICE_UNAVAILABLE now means another client took it,
                        // or waits ahead of this one.
                        if (refused == null || !refused.contains(SessionStatus.SLICE_UNAVAILABLE.name()))
                        {
                            leaveLine(servers, ticket);
                            System.err.println("bitfusion " + name + ": cannot get " + describeSlice() + " from " +
                                candidate.describeServers() + ": " + refused);
                            return null;
                        }
                        why = refused;
                        if (i + 1 < candidates.size())
                        {
                            System.err.println("bitfusion " + name + ": " + candidate.describeServers() + " has no " +
                                "room any more (" + refused + "); trying " + candidates.get(i + 1).describeServers());
                        }
                    }
                }
            }
            final long nowNs = System.nanoTime();
            if (nowNs >= deadlineNs)
            {
                leaveLine(servers, ticket);
                System.err.println("bitfusion " + name + ": cannot get " + describeSlice() + ": " + why +
                    (timeoutSeconds > 0 ? "; waited " + timeoutSeconds + " s (--timeout)" : ""));
                return null;
            }
            if (ticket == null)
            {
                ticket = new PoolQuery.WaitTicket(ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE),
                    System.currentTimeMillis(), megabytes != null ? 0 : fraction, megabytes != null ? megabytes : 0);
                // In line on every server before saying so: a request that comes after this line is behind it.
                final List<PoolQuery.Answer> inLine = PoolQuery.listGpusOfAll(
                    servers, ClientSettings.discoverQueryCredentials(), ticket, ClientSettings.OPEN_TIMEOUT_NS_DEFAULT);
                System.err.println("bitfusion " + name + ": waiting up to " + timeoutSeconds + " s (--timeout) for " +
                    describeSlice() + ": " + why + "; " + placeInLine(inLine));
            }
            Thread.sleep(Math.min(WAIT_POLL_MS, Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNs - nowNs))));
        }
    }

    /**
     * @return where this request stands in the servers' lines, in words.
     */
    private static String placeInLine(final List<PoolQuery.Answer> answers)
    {
        final int[] ahead = answers.stream().mapToInt(PoolQuery.Answer::waitersAhead).filter(count -> count >= 0).toArray();
        if (ahead.length == 0)
        {
            return "no server put it in line";
        }
        final int fewest = Arrays.stream(ahead).min().orElse(0);
        return "in line on " + ahead.length + " server" + (ahead.length == 1 ? "" : "s") + ", " +
            (fewest == 0 ? "first in line" : fewest + (fewest == 1 ? " request" : " requests") + " ahead") +
            (ahead.length == 1 ? "" : " where it is nearest the front");
    }

    /**
     * @return how many requests wait ahead of this one on the servers, as they said when last asked; 0 when this one
     * does not wait.
     */
    private static int waitersAhead(
        final List<PoolQuery.Answer> answers, final List<Endpoint> servers, final PoolQuery.WaitTicket ticket)
    {
        if (ticket == null)
        {
            return 0;
        }
        return answers.stream().filter(answer -> servers.contains(answer.server()))
            .mapToInt(answer -> Math.max(0, answer.waitersAhead())).max().orElse(0);
    }

    /**
     * Leave the line on every server at once, rather than holding the others' places until the ticket lapses.
     */
    private static void leaveLine(final List<Endpoint> servers, final PoolQuery.WaitTicket ticket)
        throws InterruptedException
    {
        if (ticket != null)
        {
            PoolQuery.listGpusOfAll(servers, ClientSettings.discoverQueryCredentials(), ticket.leaving(),
                TimeUnit.SECONDS.toNanos(1));
        }
    }

    private String describeSlice()
    {
        return gpuCount + " GPU" + (gpuCount == 1 ? "" : "s") + " with " +
            (megabytes != null ? megabytes + " MiB" : fraction + " of the memory") + " each";
    }

    /**
     * @param tag the run's tag, which the holder's client id ends with, so this command finds its slices in listings.
     */
    private ClientSettings holderSettings(final String tag, final PoolQuery.WaitTicket ticket)
    {
        final ClientSettings settings = new ClientSettings()
            .waitTicket(ticket != null ? ticket.ticket() : 0, ticket != null ? ticket.sinceMs() : 0)
            .gpuCount(gpuCount)
            .encrypt(encrypt)
            .clientId(ClientSettings.defaultClientId() + " bitfusion " + name + ": " + shownCommand(command) +
                " [" + tag + "]");
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

    /**
     * @return the command as listings show it (smi, list_gpus): a client id has room for a short one only, so a
     * command too long for it loses its program's directory first, then the end of its arguments.
     */
    static String shownCommand(final List<String> command)
    {
        final String commandLine = String.join(" ", command);
        if (commandLine.length() <= COMMAND_SHOWN_CHARS)
        {
            return commandLine;
        }
        final String program = command.get(0);
        final String shorter = program.substring(program.lastIndexOf('/') + 1) +
            command.stream().skip(1).map(argument -> " " + argument).collect(Collectors.joining());
        return shorter.length() <= COMMAND_SHOWN_CHARS ? shorter :
            shorter.substring(0, COMMAND_SHOWN_CHARS - 3) + "...";
    }

    /**
     * The holder released the slices; the server frees them once the sessions still attached have ended and freed
     * what they held: wait for that, bounded, so the slices are free once this command returns, and say so when
     * they are not.
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

    private int runProgram(final HeldGpus gpus, final ReservationHolder holder) throws IOException, InterruptedException
    {
        return ProgramLauncher.run(name, command, gpus, holder::close);
    }

    private static int freeUdpPort() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            return socket.getLocalPort();
        }
    }
}
