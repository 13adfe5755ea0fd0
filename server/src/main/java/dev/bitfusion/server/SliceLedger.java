package dev.bitfusion.server;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The memory of one GPU promised to slices: slices never add up to more than the GPU has.
 * <p>
 * Thread safety: synchronized; used on session open and close only.
 */
public final class SliceLedger
{
    private final long totalBytes;
    private final Map<Long, Long> sliceBytesBySession = new LinkedHashMap<>();
    private long reservedBytes;

    /**
     * @param totalBytes the GPU's memory.
     */
    public SliceLedger(final long totalBytes)
    {
        this.totalBytes = totalBytes;
    }

    /**
     * @param sessionId  the session taking the slice.
     * @param sliceBytes its size.
     * @return true when it fits in what is unreserved, and is now reserved.
     */
    public synchronized boolean reserve(final long sessionId, final long sliceBytes)
    {
        if (sliceBytes <= 0 || sliceBytes > totalBytes - reservedBytes)
        {
            return false;
        }
        sliceBytesBySession.put(sessionId, sliceBytes);
        reservedBytes += sliceBytes;
        return true;
    }

    /**
     * @param sessionId the session whose slice ends; unknown ids are ignored.
     */
    public synchronized void release(final long sessionId)
    {
        final Long sliceBytes = sliceBytesBySession.remove(sessionId);
        if (sliceBytes != null)
        {
            reservedBytes -= sliceBytes;
        }
    }

    public long totalBytes()
    {
        return totalBytes;
    }

    public synchronized long unreservedBytes()
    {
        return totalBytes - reservedBytes;
    }
}
