package dev.bitfusion.transport;

import io.aeron.CncFileDescriptor;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;

import java.io.File;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Reads, once and without waiting, what a media driver's CnC file says about it. Aeron's own check
 * ({@code CommonContext.isDriverActive}) waits up to its timeout for a CnC file to be initialised and then
 * throws; a file left half-made by a dead process must instead be answered at once, and nothing here throws.
 * <p>
 * Thread safety: stateless.
 */
final class CncProbe
{
    /** The answer: no CnC file, one not (yet) initialised, one this Aeron cannot read, or a heartbeat's age. */
    static final long NO_CNC = -1;
    static final long NOT_INITIALISED = -2;
    static final long UNREADABLE = -3;

    private CncProbe()
    {
    }

    /**
     * @param directory an Aeron directory.
     * @return the age in ms of its driver's last heartbeat, or {@link #NO_CNC}, {@link #NOT_INITIALISED} or
     * {@link #UNREADABLE}.
     */
    static long heartbeatAgeMs(final File directory)
    {
        final File cnc = new File(directory, CncFileDescriptor.CNC_FILE);
        final long length = cnc.length();
        if (length == 0 && !cnc.exists())
        {
            return NO_CNC;
        }
        if (length < CncFileDescriptor.META_DATA_LENGTH)
        {
            return NOT_INITIALISED;
        }
        MappedByteBuffer mapped = null;
        try
        {
            mapped = IoUtil.mapExistingFile(cnc, FileChannel.MapMode.READ_ONLY, "CnC file");
            final UnsafeBuffer metaData = CncFileDescriptor.createMetaDataBuffer(mapped);
            final int version = metaData.getIntVolatile(CncFileDescriptor.cncVersionOffset(0));
            if (version == 0)
            {
                return NOT_INITIALISED;
            }
            CncFileDescriptor.checkVersion(version);
            final ManyToOneRingBuffer toDriver =
                new ManyToOneRingBuffer(CncFileDescriptor.createToDriverBuffer(mapped, metaData));
            return Math.max(0, System.currentTimeMillis() - toDriver.consumerHeartbeatTime());
        }
        catch (final RuntimeException | InternalError ex)
        {
            // Another Aeron version, garbage, or a file truncated under the mapping (InternalError from SIGBUS).
            return UNREADABLE;
        }
        finally
        {
            if (mapped != null)
            {
                IoUtil.unmap(mapped);
            }
        }
    }
}
