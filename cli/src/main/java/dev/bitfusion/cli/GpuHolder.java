package dev.bitfusion.cli;

import dev.bitfusion.agent.pool.ReservationHolder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The holder process of {@code bitfusion request_gpus}: a {@code bin/bitfusion request_gpus --holder=FILE} started in
 * a session of its own ({@code setsid}), so that closing the terminal or the shell that asked leaves it running. It
 * places and takes the GPUs as {@code bitfusion run} does, and its {@link ReservationHolder} holds them for as long as
 * it lives: the servers free them when it releases them or dies, as for any holder. It writes the reservation file
 * once they are held and keeps them until
 * <ul>
 *     <li>{@code release_gpus} sends it SIGTERM: it removes the file, releases the GPUs, waits (bounded) until the
 *     servers have freed them and exits;</li>
 *     <li>a server ends a reservation or is lost: it marks the file lost, with the reason, so that {@code client} and
 *     {@code release_gpus} can say why, releases the rest and exits;</li>
 *     <li>the file is removed or replaced by someone else: nobody could release the GPUs any more, so it does.</li>
 * </ul>
 * The holder's output goes to a log beside the file ({@code FILE.log}).
 * <p>
 * Thread safety: {@link #keep} runs on the main thread; the shutdown hook that SIGTERM runs only signals it.
 */
final class GpuHolder
{
    /** The option that makes {@code request_gpus} the holder of the file it names. */
    static final String HOLDER_OPTION = "--holder";
    /** How often the holder checks its reservations and its file. */
    static final long CHECK_INTERVAL_MS = 500;
    /** The holder's exit code when it lost its reservations. */
    static final int LOST_EXIT_CODE = 4;
    /** How long a SIGTERM waits for the release before the JVM halts: the servers' answer, and some. */
    private static final long RELEASE_WAIT_MS = RunCommand.RELEASE_WAIT_MS_DEFAULT + 5_000;
    private static final String MAIN_CLASS = BitfusionCommand.class.getName();

    private final Path file;
    private final CountDownLatch releaseAsked = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);

    /**
     * @param file the reservation file to write, absolute.
     */
    GpuHolder(final Path file)
    {
        this.file = file;
        Runtime.getRuntime().addShutdownHook(new Thread(this::onShutdown, "bitfusion-holder-release"));
    }

    /**
     * @param file the reservation file, absolute.
     * @return the value of {@link #HOLDER_OPTION} that makes a {@code request_gpus} the holder of this file.
     */
    static String holderArgument(final Path file)
    {
        return HOLDER_OPTION + "=" + file;
    }

    /**
     * Whether a process is the holder of a reservation file, judged by its command line, so that a process that
     * reused a dead holder's pid is never taken for it (and never sent its SIGTERM).
     *
     * @param pid  the holder pid the file names.
     * @param file the reservation file, absolute.
     * @return true while that process lives and is this file's holder.
     */
    static boolean isHolderOf(final long pid, final Path file)
    {
        final List<String> arguments;
        try
        {
            arguments = commandLine(pid);
        }
        catch (final IOException ex)
        {
            return false; // No such process, or not ours to read: not a holder this user could release either.
        }
        return arguments.contains(MAIN_CLASS) && arguments.contains(holderArgument(file));
    }

    /**
     * Write the reservation file and hold the GPUs until released, lost, or orphaned (see the class comment).
     *
     * @param gpus   what is held.
     * @param holder holds it.
     * @return the holder's exit code.
     */
    int keep(final HeldGpus gpus, final ReservationHolder holder) throws IOException, InterruptedException
    {
        final ReservationFile written = new ReservationFile(gpus, ProcessHandle.current().pid(), Instant.now(), null);
        try
        {
            written.writeNew(file);
        }
        catch (final FileAlreadyExistsException ex)
        {
            System.err.println("bitfusion request_gpus: " + file + " was written by another request_gpus meanwhile: " +
                "releasing the GPUs taken for this one");
            return 1;
        }
        final Object fileKey = fileKey();
        System.err.println("bitfusion request_gpus: holding " + describe(gpus) + " in " + file + " (holder pid " +
            written.holderPid() + ")");
        while (!releaseAsked.await(CHECK_INTERVAL_MS, TimeUnit.MILLISECONDS))
        {
            final String lost = holder.lostReason();
            if (lost != null)
            {
                written.lost(lost).replace(file);
                System.err.println("bitfusion request_gpus: " + lost + "; releasing the rest and marking " + file +
                    " lost: run bitfusion request_gpus again");
                return LOST_EXIT_CODE;
            }
            if (!Objects.equals(fileKey, fileKey()))
            {
                System.err.println("bitfusion request_gpus: " + file + " was removed or replaced: nobody could " +
                    "release these GPUs any more, so releasing them now");
                return 0;
            }
        }
        // Gone before the GPUs are: no client starts on a reservation being released.
        if (Objects.equals(fileKey, fileKey()))
        {
            Files.deleteIfExists(file);
        }
        System.err.println("bitfusion request_gpus: releasing " + describe(gpus));
        return 0;
    }

    /**
     * Called once the command is done (the GPUs released, or never taken): a SIGTERM waiting in the shutdown hook
     * may let the JVM halt now.
     */
    void finished()
    {
        finished.countDown();
    }

    /**
     * @return e.g. {@code 1 GPU with 0.5 of the memory each}.
     */
    static String describe(final HeldGpus gpus)
    {
        final int count = gpus.gpuIndices().size();
        return count + " GPU" + (count == 1 ? "" : "s") + " with " + gpus.describeSlice() + " each";
    }

    /**
     * SIGTERM (release_gpus) ends the JVM once this returns: let the main thread release the GPUs and wait for the
     * servers to free them first, bounded.
     */
    private void onShutdown()
    {
        releaseAsked.countDown();
        try
        {
            finished.await(RELEASE_WAIT_MS, TimeUnit.MILLISECONDS);
        }
        catch (final InterruptedException ignore)
        {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * @return what tells this file from one written in its place, or null when there is none.
     */
    private Object fileKey() throws IOException
    {
        try
        {
            return Files.readAttributes(file, BasicFileAttributes.class).fileKey();
        }
        catch (final NoSuchFileException ex)
        {
            return null;
        }
    }

    private static List<String> commandLine(final long pid) throws IOException
    {
        final byte[] bytes = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
        final List<String> arguments = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < bytes.length; i++)
        {
            if (bytes[i] == 0)
            {
                arguments.add(new String(bytes, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return arguments;
    }
}
