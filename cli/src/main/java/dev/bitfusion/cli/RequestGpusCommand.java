package dev.bitfusion.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code bitfusion request_gpus}: hold GPUs across several commands (a notebook, a shell, a benchmark series), until
 * {@code bitfusion release_gpus}; {@code bitfusion client -- COMMAND} runs commands on them, any number, also at once.
 * <p>
 * What holds them is a small background process, the holder ({@link GpuHolder}): this command starts it in a session
 * of its own, so it outlives this command and the terminal, and waits until the holder has written the reservation
 * file ({@link ReservationFile}, by default {@code ~/.bitfusion/reservation}) or has ended without the GPUs; it passes
 * on what the holder says meanwhile (a server skipped, why nothing fits, that it waits for room up to
 * {@code --timeout}) and prints what is held. The holder places the
 * request exactly as {@code bitfusion run} does, and the servers free its GPUs when it releases them or dies.
 * <p>
 * One file holds one request: a file whose holder still lives is refused (release it first, or name another with
 * {@code -f}); one whose holder is gone is removed and taken.
 * <p>
 * Thread safety: a command object runs once, on the main thread.
 */
@Command(name = "request_gpus", mixinStandardHelpOptions = true,
    description = "Hold GPU slices for bitfusion client until bitfusion release_gpus: bitfusion request_gpus -n 1 -p 0.5")
final class RequestGpusCommand implements Callable<Integer>
{
    /** How often this command looks for the holder's file and output while it waits. */
    private static final long POLL_INTERVAL_MS = 100;

    @Option(names = "-n", paramLabel = "N", description = "How many GPUs (default 1, or as many as -l names).")
    Integer gpuCount;

    @Option(names = "-p", paramLabel = "FRACTION", description = "Slice: this fraction of each GPU's memory.")
    Double fraction;

    @Option(names = "-m", paramLabel = "MB", description = "Slice: this many MiB of each GPU's memory.")
    Long megabytes;

    @Option(names = "--server_list", paramLabel = "HOST:PORT,...",
        description = "Servers to use (default: BITFUSION_SERVERS, else an embedded local server in the holder).")
    String serverList;

    @Option(names = "--filter", paramLabel = "KEY=VALUE",
        description = "Only GPUs that match, as for run; repeatable, all must match.")
    List<String> filters = new ArrayList<>();

    @Option(names = {"-l", "--gpu_ids"}, paramLabel = "ID,...", split = ",",
        description = "Only the GPUs of these indices (as list_gpus shows them), on whichever server.")
    List<Integer> gpuIds = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "SECONDS",
        description = "When the pool has no room now, wait in line up to this long (default 0: fail at once).")
    long timeoutSeconds;

    @Option(names = "--encrypt",
        description = "Encrypt the requests and replies of the programs run on them (needs the server's token); " +
            "default: BITFUSION_ENCRYPT.")
    boolean encrypt;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE",
        description = "Where to store the reservation (default ~/.bitfusion/reservation); the holder's log is FILE.log.")
    Path file;

    @Option(names = GpuHolder.HOLDER_OPTION, hidden = true, paramLabel = "FILE",
        description = "Be the holder of FILE: started by request_gpus itself.")
    Path holderOf;

    public Integer call() throws Exception
    {
        if (holderOf != null)
        {
            return hold(ReservationFile.resolve(holderOf));
        }
        // Made first, so that the file is named through the directory's real path from the start, as later commands
        // name it.
        final Path given = file != null ? file : ReservationFile.defaultPath();
        ReservationFile.createDirectory(given);
        return request(ReservationFile.resolve(given));
    }

    /**
     * The holder: place and hold the GPUs as {@code bitfusion run} does, then keep them (see {@link GpuHolder}).
     */
    private int hold(final Path reservationFile) throws Exception
    {
        final GpuHolder holder = new GpuHolder(reservationFile);
        try
        {
            final RunCommand placement = new RunCommand();
            placement.name = "request_gpus";
            placement.gpuCount = gpuCount;
            placement.fraction = fraction;
            placement.megabytes = megabytes;
            placement.serverList = serverList;
            placement.filters = filters;
            placement.gpuIds = gpuIds;
            placement.timeoutSeconds = timeoutSeconds;
            placement.encrypt = encrypt;
            placement.command = List.of(reservationFile.toString());
            return placement.onHeldGpus(holder::keep);
        }
        finally
        {
            holder.finished();
        }
    }

    private int request(final Path reservationFile) throws IOException, InterruptedException
    {
        if (!clearStale(reservationFile))
        {
            return 1;
        }
        final Path log = ReservationFile.logOf(reservationFile);
        final Process holder;
        try
        {
            holder = startHolder(reservationFile, log);
        }
        catch (final IOException | IllegalStateException ex)
        {
            System.err.println("bitfusion request_gpus: cannot start the holder process: " + ex.getMessage());
            return 1;
        }
        // Given up before the GPUs are held (Ctrl-C): the holder is told to release them and go.
        final Thread abandon = new Thread(holder::destroy, "bitfusion-request-abandon");
        Runtime.getRuntime().addShutdownHook(abandon);
        final ReservationFile held;
        try (RandomAccessFile output = new RandomAccessFile(log.toFile(), "r"))
        {
            held = awaitHeld(reservationFile, holder, output);
        }
        Runtime.getRuntime().removeShutdownHook(abandon);
        if (held == null)
        {
            final int exitCode = holder.exitValue();
            System.err.println("bitfusion request_gpus: nothing held: the holder ended (exit code " + exitCode +
                "); its log is " + log);
            return exitCode == 0 ? 1 : exitCode;
        }
        if (held.lostReason() != null)
        {
            System.err.println("bitfusion request_gpus: held, then lost at once: " + held.lostReason() + "; its log is " + log);
            return GpuHolder.LOST_EXIT_CODE;
        }
        print(held, reservationFile, log);
        return 0;
    }

    /**
     * @return false when the file is another request's, which still holds its GPUs, or not a reservation file at all.
     */
    private static boolean clearStale(final Path reservationFile) throws IOException
    {
        final ReservationFile existing;
        try
        {
            existing = ReservationFile.read(reservationFile);
        }
        catch (final NoSuchFileException ex)
        {
            return true;
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("bitfusion request_gpus: " + ex.getMessage() + ": remove it, or name another file with -f");
            return false;
        }
        if (GpuHolder.isHolderOf(existing.holderPid(), reservationFile))
        {
            System.err.println("bitfusion request_gpus: " + reservationFile + " already holds " +
                GpuHolder.describe(existing.gpus()) + " (holder pid " + existing.holderPid() + ", since " +
                existing.takenAt() + "): free them with bitfusion release_gpus" + ReservationFile.option(reservationFile) +
                ", or name another file with -f");
            return false;
        }
        Files.deleteIfExists(reservationFile);
        System.err.println("bitfusion request_gpus: removed " + reservationFile + ": its holder (pid " +
            existing.holderPid() + ") had ended, and the servers freed its GPUs");
        return true;
    }

    /**
     * The holder runs {@code bin/bitfusion request_gpus ... --holder=FILE} in a session of its own ({@code setsid}):
     * no terminal, so closing the shell that asked sends it no SIGHUP; its output goes to the log.
     */
    private Process startHolder(final Path reservationFile, final Path log) throws IOException
    {
        final String root = InstallRoot.discover();
        if (root == null)
        {
            throw new IllegalStateException("not run from a bitfusion distribution (bin/bitfusion): cannot find it");
        }
        final List<String> command = new ArrayList<>(List.of("setsid", Path.of(root, "bin", "bitfusion").toString(),
            "request_gpus"));
        if (gpuCount != null)
        {
            command.addAll(List.of("-n", Integer.toString(gpuCount)));
        }
        if (megabytes != null)
        {
            command.addAll(List.of("-m", Long.toString(megabytes)));
        }
        if (fraction != null)
        {
            command.addAll(List.of("-p", Double.toString(fraction)));
        }
        if (serverList != null)
        {
            command.add("--server_list=" + serverList);
        }
        if (encrypt)
        {
            command.add("--encrypt");
        }
        filters.forEach(filter -> command.add("--filter=" + filter));
        gpuIds.forEach(id -> command.add("--gpu_ids=" + id));
        command.add("--timeout=" + timeoutSeconds);
        command.add(GpuHolder.holderArgument(reservationFile));
        Files.deleteIfExists(log);
        Files.createFile(log, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        return new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    }

    /**
     * Wait until the holder has written the file or has ended, passing on what it says meanwhile.
     *
     * @return what it holds, or null when it ended without the GPUs.
     */
    private static ReservationFile awaitHeld(final Path reservationFile, final Process holder, final RandomAccessFile output)
        throws IOException, InterruptedException
    {
        while (true)
        {
            final boolean ended = !holder.isAlive();
            try
            {
                final ReservationFile written = ReservationFile.read(reservationFile);
                if (written.holderPid() == holder.pid())
                {
                    return written; // What it says from now on is in its log; this command says what it holds.
                }
            }
            catch (final NoSuchFileException ex)
            {
                // Not held yet.
            }
            passOn(output);
            if (ended)
            {
                return null;
            }
            Thread.sleep(POLL_INTERVAL_MS);
        }
    }

    /**
     * Show what the holder printed since the last look, whole lines only.
     */
    private static void passOn(final RandomAccessFile output) throws IOException
    {
        final long start = output.getFilePointer();
        final byte[] bytes = new byte[(int)Math.min(Integer.MAX_VALUE, output.length() - start)];
        output.readFully(bytes);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] != '\n')
        {
            end--;
        }
        output.seek(start + end);
        System.err.print(new String(bytes, 0, end, StandardCharsets.UTF_8));
        System.err.flush();
    }

    private static void print(final ReservationFile held, final Path reservationFile, final Path log)
    {
        final HeldGpus gpus = held.gpus();
        System.out.println("bitfusion request_gpus: holding " + GpuHolder.describe(gpus) +
            " until bitfusion release_gpus" + ReservationFile.option(reservationFile));
        for (int device = 0; device < gpus.servers().size(); device++)
        {
            System.out.println("  device " + device + ": GPU " + gpus.gpuIndices().get(device) + " of " +
                gpus.servers().get(device) + " (reservation " + gpus.reservations().get(device).id() + ")");
        }
        System.out.println("reservation: " + reservationFile + " (holder pid " + held.holderPid() + ", log " + log + ")");
        System.out.println("run programs on it: bitfusion client" + ReservationFile.option(reservationFile) +
            " -- ./program ARGS");
    }
}
