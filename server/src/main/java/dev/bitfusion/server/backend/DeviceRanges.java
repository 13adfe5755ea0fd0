package dev.bitfusion.server.backend;

import java.util.Arrays;

/**
 * Device ranges sorted by start address, so that finding the range an address falls in is a binary search:
 * {@link TenantMemory} keeps a tenant's allocations in one and its modules' globals in another.
 * <p>
 * Thread safety: not thread safe; owned by one session.
 */
final class DeviceRanges
{
    private long[] starts = new long[64];
    private long[] sizes = new long[64];
    private int count;

    /**
     * @param start first device address of the range.
     * @param bytes its length, at least 1.
     */
    void add(final long start, final long bytes)
    {
        int index = Arrays.binarySearch(starts, 0, count, start);
        if (index >= 0)
        {
            sizes[index] = bytes;
            return;
        }
        index = -index - 1;
        if (count == starts.length)
        {
            starts = Arrays.copyOf(starts, count * 2);
            sizes = Arrays.copyOf(sizes, count * 2);
        }
        System.arraycopy(starts, index, starts, index + 1, count - index);
        System.arraycopy(sizes, index, sizes, index + 1, count - index);
        starts[index] = start;
        sizes[index] = bytes;
        count++;
    }

    /**
     * @param start the exact start of a range.
     * @return its length, or -1 when no range starts there.
     */
    long remove(final long start)
    {
        final int index = Arrays.binarySearch(starts, 0, count, start);
        if (index < 0)
        {
            return -1;
        }
        final long bytes = sizes[index];
        System.arraycopy(starts, index + 1, starts, index, count - index - 1);
        System.arraycopy(sizes, index + 1, sizes, index, count - index - 1);
        count--;
        return bytes;
    }

    /**
     * @return true when {@code [address, address + bytes)} lies inside one range.
     */
    boolean contains(final long address, final long bytes)
    {
        if (bytes < 0 || address == 0)
        {
            return false;
        }
        int index = Arrays.binarySearch(starts, 0, count, address);
        if (index < 0)
        {
            index = -index - 2;
        }
        if (index < 0)
        {
            return false;
        }
        final long offset = address - starts[index];
        return offset >= 0 && bytes <= sizes[index] - offset;
    }

    int size()
    {
        return count;
    }

    long startAt(final int index)
    {
        return starts[index];
    }

    void clear()
    {
        count = 0;
    }
}
