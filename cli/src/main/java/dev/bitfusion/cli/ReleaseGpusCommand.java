package dev.bitfusion.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code bitfusion release_gpus}: free the GPUs that {@code bitfusion request_gpus} holds.
 * <p>
 * It sends the holder process SIGTERM, once its command line shows it is the holder of this file (a process that
 * reused a dead holder's pid is never signalled), and waits, bounded, until the holder has released the GPUs and the
 * servers have freed them; the file is then gone. When the holder is already gone (killed, its host restarted, or it
 * lost the GPUs) the servers freed the GPUs when it ended: this command says so, removes the file and succeeds. With
 * no file there is nothing to release, and it fails saying so.
 * <p>
 * Programs still running on the GPUs ({@code bitfusion client}) lose them: the servers end their sessions.
 * <p>
 * Thread safety: a command object runs once, on the main thread.
 */
@Command(name = "release_gpus", mixinStandardHelpOptions = true,
    description = "Free the GPUs held by bitfusion request_gpus.")
final class ReleaseGpusCommand implements Callable<Integer>
{
    /** How long the holder may take to release: the servers' answer and its own bound on waiting for them, and some. */
    static final long HOLDER_EXIT_WAIT_MS = RunCommand.RELEASE_WAIT_MS_DEFAULT + 15_000;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE",
        description = "The reservation of request_gpus to free (default ~/.bitfusion/reservation).")
    Path file;

    public Integer call() throws Exception
    {
        final Path reservationFile = ReservationFile.resolve(file);
        final ReservationFile held;
        try
        {
            held = ReservationFile.read(reservationFile);
        }
        catch (final NoSuchFileException ex)
        {
            System.err.println("bitfusion release_gpus: nothing to release: no GPUs are held in " + reservationFile);
            return 1;
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("bitfusion release_gpus: " + ex.getMessage() + "; left as it is");
            return 2;
        }
        final Optional<ProcessHandle> holder = GpuHolder.isHolderOf(held.holderPid(), reservationFile) ?
            ProcessHandle.of(held.holderPid()) : Optional.empty();
        if (holder.isEmpty())
        {
            removeIfStillOf(reservationFile, held.holderPid());
            System.err.println("bitfusion release_gpus: the holder (pid " + held.holderPid() + ") was already gone" +
                (held.lostReason() != null ? ", having lost the GPUs (" + held.lostReason() + ")" : "") +
                "; the servers freed its GPUs when it ended; removed " + reservationFile);
            return 0;
        }
        final CompletableFuture<ProcessHandle> exited = holder.get().onExit();
        holder.get().destroy();
        try
        {
            exited.get(HOLDER_EXIT_WAIT_MS, TimeUnit.MILLISECONDS);
        }
        catch (final TimeoutException ex)
        {
            System.err.println("bitfusion release_gpus: the holder (pid " + held.holderPid() + ") still runs " +
                HOLDER_EXIT_WAIT_MS + " ms after SIGTERM; its log is " + ReservationFile.logOf(reservationFile) +
                "; kill -9 " + held.holderPid() + " ends it, and the servers then free its GPUs within seconds");
            return 1;
        }
        removeIfStillOf(reservationFile, held.holderPid());
        System.out.println("bitfusion release_gpus: released " + GpuHolder.describe(held.gpus()) + ", held since " +
            held.takenAt() + " (holder pid " + held.holderPid() + ")");
        return 0;
    }

    /**
     * Remove the file unless a new request has written its own there meanwhile.
     */
    private static void removeIfStillOf(final Path reservationFile, final long holderPid) throws IOException
    {
        try
        {
            if (ReservationFile.read(reservationFile).holderPid() != holderPid)
            {
                return;
            }
        }
        catch (final NoSuchFileException ex)
        {
            return; // The holder removed it itself.
        }
        Files.deleteIfExists(reservationFile);
    }
}
