package dev.bitfusion.transport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Who holds a POSIX record lock on a file, read from the kernel's table ({@code /proc/locks}) without opening the
 * file. A process loses its POSIX locks on a file when it closes <em>any</em> descriptor of it, and one JVM may
 * hold {@link OwnerLock}s through more than one copy of that class (the Java agent loads its own, beside an
 * application that runs bitfusion too, such as a server under {@code bitfusion run}): a probe that opened a lock
 * file held through the other copy would drop that lock, and another process would then take the owner for dead.
 * <p>
 * Thread safety: stateless.
 */
final class PosixLockTable
{
    /** No process holds a lock on the file (or there is no file). */
    static final long NONE = 0;
    /** The kernel's table cannot be read here: callers fall back to probing the file. */
    static final long UNKNOWN = -1;

    private static final Path PROC_LOCKS = Path.of("/proc/locks");

    private PosixLockTable()
    {
    }

    /**
     * @param file a lock file.
     * @return the pid of the live process holding a POSIX lock on it, {@link #NONE} or {@link #UNKNOWN}.
     */
    static long holderOf(final Path file)
    {
        final long device;
        final long inode;
        try
        {
            device = (Long)Files.getAttribute(file, "unix:dev", LinkOption.NOFOLLOW_LINKS);
            inode = (Long)Files.getAttribute(file, "unix:ino", LinkOption.NOFOLLOW_LINKS);
        }
        catch (final NoSuchFileException ex)
        {
            return NONE;
        }
        catch (final IOException | UnsupportedOperationException | IllegalArgumentException ex)
        {
            return UNKNOWN;
        }

        final List<String> lines;
        try
        {
            lines = Files.readAllLines(PROC_LOCKS);
        }
        catch (final IOException ex)
        {
            return UNKNOWN;
        }
        // glibc's encoding of st_dev; the kernel's table prints MAJOR:MINOR:INODE, the first two in hex.
        final long major = ((device >>> 8) & 0xfffL) | ((device >>> 32) & 0xfffff000L);
        final long minor = (device & 0xffL) | ((device >>> 12) & 0xffffff00L);
        for (final String line : lines)
        {
            // "1: POSIX  ADVISORY  WRITE 4242 00:19:1234 0 EOF"; a waiter's line has "->" after the id.
            final String[] fields = line.trim().split("\\s+");
            if (fields.length < 6 || !fields[1].equals("POSIX"))
            {
                continue;
            }
            final String[] id = fields[5].split(":");
            try
            {
                if (id.length == 3 && Long.parseLong(id[2]) == inode && Long.parseLong(id[0], 16) == major &&
                    Long.parseLong(id[1], 16) == minor)
                {
                    return Long.parseLong(fields[4]);
                }
            }
            catch (final NumberFormatException ex)
            {
                // A line of another shape than this reader knows: not the file's.
            }
        }
        return NONE;
    }
}
