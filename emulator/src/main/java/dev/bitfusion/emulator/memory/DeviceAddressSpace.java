package dev.bitfusion.emulator.memory;

import java.util.Map;
import java.util.TreeMap;
import java.util.random.RandomGenerator;

/**
 * The virtual address space of one emulated GPU, shared by every tenant on it.
 * <p>
 * Hands out non-overlapping ranges at addresses that look like a real GPU's unified addresses, so that
 * programs which print or compare pointers see plausible values and two tenants never receive the same
 * pointer. Freed ranges are reused (first fit), so a long-running server does not exhaust the range.
 * <p>
 * Thread safety: all methods are synchronized; reservation happens on allocation, never on a hot path.
 */
public final class DeviceAddressSpace
{
    /** Where device addresses start: a typical CUDA UVA device address on x86-64 Linux. */
    public static final long BASE_ADDRESS = 0x7f4a_0000_0000L;

    /** Alignment of every reservation; cuMemAlloc guarantees at least 256 bytes, real drivers give 512. */
    public static final long ALIGNMENT = 512;

    /** A server's shift (see {@link #randomShiftBytes}) is a multiple of this. */
    public static final long SHIFT_ALIGNMENT = 1L << 30;

    /**
     * The addresses of one GPU: 256 GiB, far more than an emulated GPU's memory. GPU k's start that much
     * below GPU k-1's, so the GPUs of one server never share an address, as under unified addressing, and
     * all stay in the 47-bit user range.
     */
    private static final long SPACE_BYTES = 1L << 38;

    /** No space starts below this: the lowest terabyte is where programs keep their own code and heap. */
    private static final long LOWEST_ADDRESS = 1L << 40;

    private static final int MAX_GPU = 500;

    private final TreeMap<Long, Long> freeRangesByStart = new TreeMap<>();

    /** The address space of GPU 0. */
    public DeviceAddressSpace()
    {
        this(0);
    }

    /**
     * @param gpu the GPU's index on its server, 0 to 500.
     */
    public DeviceAddressSpace(final int gpu)
    {
        this(gpu, 0);
    }

    /**
     * @param gpu        the GPU's index on its server, 0 to 500.
     * @param shiftBytes how far below the usual place the server's spaces lie, a multiple of
     *                   {@link #SHIFT_ALIGNMENT}: see {@link #randomShiftBytes}.
     */
    public DeviceAddressSpace(final int gpu, final long shiftBytes)
    {
        if (gpu < 0 || gpu > MAX_GPU)
        {
            throw new IllegalArgumentException("GPU index out of range: " + gpu);
        }
        final long start = BASE_ADDRESS - gpu * SPACE_BYTES - shiftBytes;
        if (shiftBytes < 0 || shiftBytes % SHIFT_ALIGNMENT != 0 || start < LOWEST_ADDRESS)
        {
            throw new IllegalArgumentException("address shift " + shiftBytes + " out of range for GPU " + gpu);
        }
        freeRangesByStart.put(start, SPACE_BYTES);
    }

    /**
     * A shift for the spaces of one server, chosen at random as a real driver's addresses differ from process to
     * process. One program may use GPUs of several servers at once (device 0 on one, device 1 on another) and tells
     * its device pointers apart by their values; servers that all started their GPU 0 at the same address would
     * hand it the same pointer twice. With a random shift, two servers' allocations meet only when their shifts
     * lie within the memory they hand out of each other: a few in a hundred thousand for GPUs of some GiB.
     *
     * @param gpuCount how many GPUs the server has, 1 to 501.
     * @param random   where the shift comes from.
     * @return a multiple of {@link #SHIFT_ALIGNMENT} that keeps every one of the server's spaces in range.
     */
    public static long randomShiftBytes(final int gpuCount, final RandomGenerator random)
    {
        if (gpuCount < 1 || gpuCount > MAX_GPU + 1)
        {
            throw new IllegalArgumentException("GPU count out of range: " + gpuCount);
        }
        final long lowestStartUnshifted = BASE_ADDRESS - (gpuCount - 1) * SPACE_BYTES;
        return random.nextLong((lowestStartUnshifted - LOWEST_ADDRESS) / SHIFT_ALIGNMENT + 1) * SHIFT_ALIGNMENT;
    }

    /**
     * Reserve a range of at least {@code bytes}.
     *
     * @param bytes the size wanted, greater than zero.
     * @return the start address of the range, or 0 when the space is exhausted.
     */
    public synchronized long reserve(final long bytes)
    {
        final long size = alignedSize(bytes);
        for (final Map.Entry<Long, Long> range : freeRangesByStart.entrySet())
        {
            if (range.getValue() >= size)
            {
                final long start = range.getKey();
                final long remaining = range.getValue() - size;
                freeRangesByStart.remove(start);
                if (remaining > 0)
                {
                    freeRangesByStart.put(start + size, remaining);
                }
                return start;
            }
        }
        return 0;
    }

    /**
     * Return a range obtained from {@link #reserve(long)}, merging it with free neighbours.
     *
     * @param start the address {@link #reserve(long)} returned.
     * @param bytes the size that was asked for.
     */
    public synchronized void release(final long start, final long bytes)
    {
        long mergedStart = start;
        long mergedSize = alignedSize(bytes);

        final Map.Entry<Long, Long> before = freeRangesByStart.floorEntry(start);
        if (before != null && before.getKey() + before.getValue() == start)
        {
            mergedStart = before.getKey();
            mergedSize += before.getValue();
            freeRangesByStart.remove(before.getKey());
        }
        final Long afterSize = freeRangesByStart.remove(start + alignedSize(bytes));
        if (afterSize != null)
        {
            mergedSize += afterSize;
        }
        freeRangesByStart.put(mergedStart, mergedSize);
    }

    static long alignedSize(final long bytes)
    {
        return (Math.max(bytes, 1) + ALIGNMENT - 1) & -ALIGNMENT;
    }
}
