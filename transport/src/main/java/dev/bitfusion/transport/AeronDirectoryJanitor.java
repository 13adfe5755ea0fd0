package dev.bitfusion.transport;

import io.aeron.CncFileDescriptor;
import io.aeron.CommonContext;
import org.agrona.IoUtil;

import java.io.File;
import java.util.concurrent.TimeUnit;

/**
 * Removes the Aeron directories of bitfusion processes that died without cleaning up (a SIGKILLed client,
 * a crashed server): each holds its log buffers in shared memory, so left alone they fill /dev/shm.
 * <p>
 * A directory is removed only when its driver is provably gone: its CnC file exists and the driver's
 * heartbeat in it is older than the driver timeout, or there is no CnC file and the directory has not
 * been touched for a minute (a driver that is still starting writes its CnC file at once).
 * <p>
 * Thread safety: stateless; safe to call from any thread and from several processes at once.
 */
public final class AeronDirectoryJanitor
{
    static final long DRIVER_TIMEOUT_MS = 10_000;
    static final long ABANDONED_AFTER_MS = TimeUnit.MINUTES.toMillis(1);

    private AeronDirectoryJanitor()
    {
    }

    /**
     * Sweep the directories named like {@link TransportSettings#defaultAeronDirectory(String)} names them.
     *
     * @return how many directories were removed.
     */
    public static int sweep()
    {
        final File example = new File(TransportSettings.defaultAeronDirectory("x"));
        final File base = example.getParentFile();
        final String prefix = example.getName().substring(0, example.getName().length() - 1);
        final File[] candidates = base == null ? null :
            base.listFiles(file -> file.isDirectory() && file.getName().startsWith(prefix));
        int removed = 0;
        if (candidates != null)
        {
            for (final File directory : candidates)
            {
                if (isAbandoned(directory))
                {
                    IoUtil.delete(directory, true);
                    removed++;
                }
            }
        }
        return removed;
    }

    static boolean isAbandoned(final File directory)
    {
        final File cnc = new File(directory, CncFileDescriptor.CNC_FILE);
        if (cnc.exists())
        {
            try
            {
                return !CommonContext.isDriverActive(directory, DRIVER_TIMEOUT_MS, message -> {});
            }
            catch (final RuntimeException ex)
            {
                // A directory in passage (its owner removing it, or a driver still writing its CnC file) cannot
                // be judged, and is not provably abandoned: leave it.
                return false;
            }
        }
        return System.currentTimeMillis() - directory.lastModified() > ABANDONED_AFTER_MS;
    }
}
