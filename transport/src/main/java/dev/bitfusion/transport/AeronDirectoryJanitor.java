package dev.bitfusion.transport;

import io.aeron.CncFileDescriptor;
import org.agrona.IoUtil;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Who may use or remove an Aeron directory of a bitfusion process, decided without trusting a driver's answer
 * within a timeout: each process that makes a directory holds an {@link OwnerLock} beside it for its life, so a
 * directory whose lock nobody holds belongs to a process that is gone, however long a live owner is stopped or
 * starved.
 * <p>
 * Dead processes (a SIGKILLed client, a crashed server) leave their directories, which hold log buffers in
 * shared memory; left alone they fill /dev/shm. Each start sweeps them, saying in one line what it removed.
 * Directories without a lock file (made by an older version, by hand, or half-made) are removed only when their
 * owner is provably gone: the pid in their name is dead, or nothing touched them and no driver beat in them for
 * {@link #LOCKLESS_ABANDONED_AFTER_MS} (a live driver beats its CnC heartbeat every few milliseconds).
 * Nothing here waits on a CnC file or throws: a half-made one never stops a start.
 * <p>
 * Thread safety: stateless; safe to call from any thread and from several processes at once.
 */
public final class AeronDirectoryJanitor
{
    /** How long a directory without a lock file must lie untouched before it counts as abandoned. */
    static final long LOCKLESS_ABANDONED_AFTER_MS = TimeUnit.MINUTES.toMillis(1);
    /** How long a start waits for a lock that a sweeping process holds for a moment. */
    private static final long OWNERSHIP_WAIT_NS = TimeUnit.SECONDS.toNanos(1);
    /** Client directories are named {@code purpose-PID-RANDOM} (see {@code ClientLink}). */
    private static final Pattern CLIENT_DIRECTORY = Pattern.compile(".*-[a-z]+-(\\d+)-[0-9a-f]+");

    private AeronDirectoryJanitor()
    {
    }

    /**
     * Sweep the directories named like {@link TransportSettings#defaultAeronDirectory(String)} names them, and
     * the lock files their owners left.
     *
     * @param log told one line for each directory removed or left alone for a reason worth knowing.
     * @return how many directories were removed.
     */
    public static int sweep(final Consumer<String> log)
    {
        final File example = new File(TransportSettings.defaultAeronDirectory("x"));
        final File base = example.getParentFile();
        final String prefix = example.getName().substring(0, example.getName().length() - 1);
        final File[] candidates = base == null ? null : base.listFiles(file -> file.getName().startsWith(prefix));
        int removed = 0;
        if (candidates != null)
        {
            for (final File candidate : candidates)
            {
                try
                {
                    if (candidate.isDirectory())
                    {
                        removed += sweepDirectory(candidate, log) ? 1 : 0;
                    }
                    else if (candidate.getName().endsWith(OwnerLock.SUFFIX))
                    {
                        sweepLockFile(candidate.toPath());
                    }
                }
                catch (final IOException | RuntimeException ex)
                {
                    log.accept("could not judge the Aeron directory " + candidate + " (" + ex + "); left alone");
                }
            }
        }
        return removed;
    }

    /**
     * Take a directory for this process: its lock, and, when the directory is there already, the word that it is a
     * leftover (the driver that starts in it clears it).
     *
     * @param directory the Aeron directory about to be made.
     * @param log       told one line when a leftover is replaced.
     * @return the lock, which the caller holds for as long as it uses the directory.
     * @throws DirectoryInUseException when a live process owns the directory.
     */
    public static OwnerLock takeOwnership(final File directory, final Consumer<String> log)
    {
        final Path lockFile = OwnerLock.fileFor(directory.toPath());
        final long deadlineNs = System.nanoTime() + OWNERSHIP_WAIT_NS;
        OwnerLock lock;
        try
        {
            // A sweeping process holds a dead owner's lock for a moment while it removes the directory.
            while ((lock = OwnerLock.acquire(lockFile)) == null && System.nanoTime() < deadlineNs)
            {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }
        catch (final IOException ex)
        {
            throw new DirectoryInUseException("cannot lock " + lockFile + ": " + ex.getMessage(), ex);
        }
        if (lock == null)
        {
            throw new DirectoryInUseException(
                "the Aeron directory " + directory + " belongs to a live process (" + OwnerLock.ownerOf(lockFile) + ")");
        }
        if (directory.exists())
        {
            final long heartbeatAgeMs = CncProbe.heartbeatAgeMs(directory);
            if (heartbeatAgeMs >= 0 && heartbeatAgeMs < TimeUnit.SECONDS.toMillis(1))
            {
                // No lock, yet a driver beats: one of an older version without locks still runs there.
                lock.close();
                throw new DirectoryInUseException("the Aeron directory " + directory +
                    " belongs to a live media driver (heartbeat " + heartbeatAgeMs + " ms ago)");
            }
            log.accept("replacing the leftover Aeron directory " + directory + " (" + describe(heartbeatAgeMs) +
                "; no live process owns it)");
        }
        return lock;
    }

    /**
     * @param directory an Aeron directory.
     * @return true when a live process owns it and its driver beat within the last {@code timeoutMs}: a process
     * may use it for IPC.
     */
    public static boolean isServed(final File directory, final long timeoutMs)
    {
        if (!directory.isDirectory())
        {
            return false;
        }
        final long heartbeatAgeMs = CncProbe.heartbeatAgeMs(directory);
        return heartbeatAgeMs >= 0 && heartbeatAgeMs <= timeoutMs;
    }

    private static boolean sweepDirectory(final File directory, final Consumer<String> log) throws IOException
    {
        final Path lockFile = OwnerLock.fileFor(directory.toPath());
        if (lockFile.toFile().exists())
        {
            final OwnerLock lock = OwnerLock.acquireExisting(lockFile);
            if (lock == null)
            {
                return false;
            }
            try
            {
                IoUtil.delete(directory, true);
            }
            finally
            {
                lock.close();
            }
            log.accept("removed the Aeron directory " + directory + " of a process that is gone (" + lock.owner() + ")");
            return true;
        }

        final long pid = pidInName(directory.getName());
        if (pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
        {
            return false;
        }
        final long heartbeatAgeMs = CncProbe.heartbeatAgeMs(directory);
        final long lastTouchedMs = Math.max(directory.lastModified(),
            new File(directory, CncFileDescriptor.CNC_FILE).lastModified());
        if (lastTouchedMs == 0)
        {
            return false; // Its owner removed it meanwhile.
        }
        final long idleMs = System.currentTimeMillis() - lastTouchedMs;
        // A driver that has just initialised its CnC file has not beaten yet (its heartbeat reads as 1970): only
        // a directory untouched for long, whose driver, if any, stopped beating long ago, is abandoned.
        final boolean abandoned = pid > 0 || (idleMs > LOCKLESS_ABANDONED_AFTER_MS &&
            (heartbeatAgeMs < 0 || heartbeatAgeMs > LOCKLESS_ABANDONED_AFTER_MS));
        if (!abandoned)
        {
            if (heartbeatAgeMs < 0)
            {
                log.accept("left the Aeron directory " + directory + " alone: " + describe(heartbeatAgeMs) +
                    ", touched " + idleMs + " ms ago and no owner recorded; it is removed once a minute untouched");
            }
            return false;
        }
        // Held while removing, so that a process taking the directory over waits rather than losing it to us.
        final OwnerLock lock = OwnerLock.acquire(lockFile);
        if (lock == null)
        {
            return false;
        }
        try
        {
            IoUtil.delete(directory, true);
        }
        finally
        {
            lock.close();
        }
        log.accept("removed the Aeron directory " + directory + " (" + describe(heartbeatAgeMs) + "; " +
            (pid > 0 ? "its process " + pid + " is gone" : "untouched for " + idleMs + " ms") + ")");
        return true;
    }

    /** A lock file whose owner is gone and whose directory, if it had one, is gone too. */
    private static void sweepLockFile(final Path lockFile) throws IOException
    {
        final String name = lockFile.getFileName().toString();
        if (lockFile.resolveSibling(name.substring(0, name.length() - OwnerLock.SUFFIX.length())).toFile().exists())
        {
            return;
        }
        final OwnerLock lock = OwnerLock.acquireExisting(lockFile);
        if (lock != null)
        {
            lock.close();
        }
    }

    private static long pidInName(final String name)
    {
        final Matcher matcher = CLIENT_DIRECTORY.matcher(name);
        if (!matcher.matches())
        {
            return 0;
        }
        try
        {
            return Long.parseLong(matcher.group(1));
        }
        catch (final NumberFormatException ex)
        {
            return 0;
        }
    }

    private static String describe(final long heartbeatAgeMs)
    {
        if (heartbeatAgeMs == CncProbe.NO_CNC)
        {
            return "no cnc.dat";
        }
        if (heartbeatAgeMs == CncProbe.NOT_INITIALISED)
        {
            return "its cnc.dat was never initialised";
        }
        if (heartbeatAgeMs == CncProbe.UNREADABLE)
        {
            return "its cnc.dat is unreadable";
        }
        return "driver heartbeat " + heartbeatAgeMs + " ms ago";
    }
}
