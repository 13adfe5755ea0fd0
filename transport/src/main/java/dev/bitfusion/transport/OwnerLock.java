package dev.bitfusion.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;

/**
 * A file lock a process holds for its whole life on a small file beside something it owns (an Aeron
 * directory, a link to a server), so that others can tell, without asking the owner and without any
 * timeout, whether the owner is alive: the kernel releases the lock the moment the process ends, however
 * it ends (SIGKILL included). The file also names the owner ({@code pid=N start=MS}) for people and messages.
 * <p>
 * Locks are POSIX record locks, which a process loses when it closes <em>any</em> descriptor of the file;
 * so this process never opens a file it already holds: the locks this copy of the class holds are kept in a
 * table, and before opening any other lock file the kernel's lock table is read ({@link PosixLockTable}): a file
 * some live process holds, this one included through another class loader's copy of this class (the Java
 * agent's), is never opened.
 * <p>
 * Thread safety: thread safe.
 */
public final class OwnerLock implements AutoCloseable
{
    /** What a lock file's name ends with. */
    public static final String SUFFIX = ".lock";

    /** Guards every open of a lock file in this process, as well as the table. */
    private static final Map<Path, OwnerLock> HELD_BY_THIS_PROCESS = new HashMap<>();
    private static final int ACQUIRE_ATTEMPTS = 3;
    private static final int MAX_RECORD_LENGTH = 256;

    private final Path file;
    private final FileChannel channel;
    private final String owner;

    private OwnerLock(final Path file, final FileChannel channel, final String owner)
    {
        this.file = file;
        this.channel = channel;
        this.owner = owner;
    }

    /**
     * @param owned what the lock stands for, e.g. an Aeron directory.
     * @return the lock file beside it.
     */
    public static Path fileFor(final Path owned)
    {
        return owned.resolveSibling(owned.getFileName() + SUFFIX);
    }

    /**
     * @param serverAeronDirectory the server's Aeron directory, which the client joins for IPC.
     * @param replyStreamId        the client's reply stream, unique among the clients of that server's driver.
     * @return the lock file an IPC client holds while it is linked to the server, by which the server tells at once
     * that the client's process is gone.
     */
    public static Path ipcClientFile(final String serverAeronDirectory, final int replyStreamId)
    {
        return Path.of(serverAeronDirectory + "-ipc-client-" + replyStreamId + SUFFIX);
    }

    /**
     * Take the lock for this process, creating its file when there is none.
     *
     * @param file the lock file.
     * @return the lock, held until {@link #close()} or the end of the process; null when a live process
     * (this one included) holds it.
     * @throws IOException when the file cannot be created or locked at all.
     */
    public static OwnerLock acquire(final Path file) throws IOException
    {
        return tryLock(file, true);
    }

    /**
     * Take the lock of a file another process made, to prove that process gone.
     *
     * @param file the lock file.
     * @return the lock, when the file exists and no live process holds it; null otherwise.
     * @throws IOException when the file cannot be read or locked at all.
     */
    public static OwnerLock acquireExisting(final Path file) throws IOException
    {
        return tryLock(file, false);
    }

    /**
     * @param file a lock file.
     * @return true while a live process (this one included) holds it.
     */
    public static boolean isHeld(final Path file)
    {
        try
        {
            synchronized (HELD_BY_THIS_PROCESS)
            {
                if (HELD_BY_THIS_PROCESS.containsKey(file))
                {
                    return true;
                }
                final OwnerLock probe = acquireExisting(file);
                if (probe != null)
                {
                    probe.release();
                    return false;
                }
                return Files.exists(file);
            }
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    /**
     * @param file a lock file.
     * @return true when the file is there and no live process holds it: its owner is gone. The file is then
     * removed. No file is no evidence: false.
     */
    public static boolean isAbandoned(final Path file)
    {
        try
        {
            final OwnerLock lock = acquireExisting(file);
            if (lock == null)
            {
                return false;
            }
            lock.close();
            return true;
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    /**
     * @param file a lock file.
     * @return who holds or held it, as its file says ({@code pid=N start=MS}), or "unknown".
     */
    public static String ownerOf(final Path file)
    {
        synchronized (HELD_BY_THIS_PROCESS)
        {
            final OwnerLock held = HELD_BY_THIS_PROCESS.get(file);
            if (held != null)
            {
                return held.owner;
            }
            if (PosixLockTable.holderOf(file) == ProcessHandle.current().pid())
            {
                // Held through another copy of this class: reading the file would drop that lock.
                return describeThisProcess().strip();
            }
            try
            {
                final byte[] bytes = Files.readAllBytes(file);
                final String record =
                    new String(bytes, 0, Math.min(bytes.length, MAX_RECORD_LENGTH), StandardCharsets.UTF_8);
                return record.isBlank() ? "unknown" : record.strip();
            }
            catch (final IOException ex)
            {
                return "unknown";
            }
        }
    }

    /**
     * @return who held the lock before this process took it over ({@link #acquireExisting}), or this process.
     */
    public String owner()
    {
        return owner;
    }

    public Path file()
    {
        return file;
    }

    /**
     * Remove the file and let the lock go: the file is removed first, while still held, so no one can take
     * over a file that is about to vanish.
     */
    public void close()
    {
        synchronized (HELD_BY_THIS_PROCESS)
        {
            if (HELD_BY_THIS_PROCESS.get(file) == this)
            {
                try
                {
                    Files.deleteIfExists(file);
                }
                catch (final IOException ignore)
                {
                    // An unremovable lock file is harmless: the next owner takes it over.
                }
            }
            release();
        }
    }

    /**
     * Let the lock go and leave the file, as a probe does.
     */
    public void release()
    {
        synchronized (HELD_BY_THIS_PROCESS)
        {
            if (HELD_BY_THIS_PROCESS.get(file) != this)
            {
                return;
            }
            HELD_BY_THIS_PROCESS.remove(file);
            try
            {
                channel.close();
            }
            catch (final IOException ignore)
            {
                // Closing releases the lock even when it reports an error.
            }
        }
    }

    private static OwnerLock tryLock(final Path file, final boolean create) throws IOException
    {
        synchronized (HELD_BY_THIS_PROCESS)
        {
            for (int attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++)
            {
                if (HELD_BY_THIS_PROCESS.containsKey(file) || PosixLockTable.holderOf(file) > 0)
                {
                    return null;
                }
                final Object identityBefore = identityOf(file);
                final FileChannel channel;
                try
                {
                    channel = create ?
                        FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE) :
                        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
                }
                catch (final NoSuchFileException ex)
                {
                    return null;
                }
                boolean keep = false;
                try
                {
                    if (channel.tryLock() == null)
                    {
                        return null;
                    }
                    // Whoever held it before may have removed the file between our look and our lock (its owner
                    // closing, another sweeper): then this lock guards nothing, and a new file may be in use. The
                    // check reads the file's identity without opening it, as closing any descriptor of the file
                    // would drop the lock just taken.
                    final Object identityAfter = identityOf(file);
                    if (identityAfter == null || (identityBefore != null && !identityBefore.equals(identityAfter)))
                    {
                        continue;
                    }
                    final String previous = read(channel);
                    final String owner;
                    if (create)
                    {
                        owner = describeThisProcess();
                        channel.truncate(0);
                        channel.write(ByteBuffer.wrap(owner.getBytes(StandardCharsets.UTF_8)), 0);
                        channel.force(false);
                    }
                    else
                    {
                        owner = previous.isBlank() ? "unknown" : previous.strip();
                    }
                    final OwnerLock ownerLock = new OwnerLock(file, channel, owner);
                    HELD_BY_THIS_PROCESS.put(file, ownerLock);
                    keep = true;
                    return ownerLock;
                }
                catch (final OverlappingFileLockException ex)
                {
                    return null;
                }
                finally
                {
                    if (!keep)
                    {
                        channel.close();
                    }
                }
            }
            return null;
        }
    }

    /** The file's inode, read without opening it; null when there is no file. */
    private static Object identityOf(final Path file) throws IOException
    {
        try
        {
            return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        }
        catch (final NoSuchFileException ex)
        {
            return null;
        }
    }

    private static String read(final FileChannel channel) throws IOException
    {
        final ByteBuffer buffer = ByteBuffer.allocate(MAX_RECORD_LENGTH);
        channel.read(buffer, 0);
        return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
    }

    private static String describeThisProcess()
    {
        final ProcessHandle self = ProcessHandle.current();
        return "pid=" + self.pid() + " start=" +
            self.info().startInstant().map(instant -> Long.toString(instant.toEpochMilli())).orElse("unknown") + "\n";
    }
}
