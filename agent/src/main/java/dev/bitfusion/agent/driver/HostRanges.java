package dev.bitfusion.agent.driver;

import java.util.Map;
import java.util.TreeMap;

/**
 * Page-locked host memory, as this process knows it: ranges it allocated for the program
 * (cuMemHostAlloc, cuMemAllocHost) and ranges the program registered (cuMemHostRegister), each with its
 * flags. The copies stream host memory to the remote GPU anyway, so "pinned" only has to mean "remembered
 * with its flags": pointer attributes, cuMemHostGetFlags and cudaHostGetDevicePointer answer from here.
 * <p>
 * Thread safety: thread safe.
 */
final class HostRanges
{
    /** One page-locked range: allocated here ({@code owned}, with the raw allocation to free) or registered. */
    record Range(long base, long bytes, int flags, boolean owned, long allocation)
    {
        boolean contains(final long address)
        {
            return Long.compareUnsigned(address - base, bytes) < 0;
        }
    }

    private final TreeMap<Long, Range> byBase = new TreeMap<>(Long::compareUnsigned);

    /**
     * @return false when the range overlaps one already known (CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED).
     */
    synchronized boolean add(final Range range)
    {
        final Map.Entry<Long, Range> below = byBase.floorEntry(range.base() + range.bytes() - 1);
        if (below != null && Long.compareUnsigned(below.getValue().base() + below.getValue().bytes(), range.base()) > 0)
        {
            return false;
        }
        byBase.put(range.base(), range);
        return true;
    }

    /**
     * @return the range holding the address, or null.
     */
    synchronized Range find(final long address)
    {
        final Map.Entry<Long, Range> below = byBase.floorEntry(address);
        return below != null && below.getValue().contains(address) ? below.getValue() : null;
    }

    /**
     * Forget the range starting exactly at {@code base} when it was allocated here ({@code owned}) or
     * registered (not owned), as asked.
     *
     * @return the range, or null when no such range starts there.
     */
    synchronized Range take(final long base, final boolean owned)
    {
        final Range range = byBase.get(base);
        if (range == null || range.owned() != owned)
        {
            return null;
        }
        byBase.remove(base);
        return range;
    }
}
