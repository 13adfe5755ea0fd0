package dev.bitfusion.emulator.memory;

import org.agrona.UnsafeApi;

import java.util.Arrays;

/**
 * One tenant's device memory on an emulated GPU: its allocations, their off-heap backing, and its quota.
 * <p>
 * Every address a tenant names (copies, memsets, kernel loads and stores) is resolved through
 * {@link #hostAddress(long, long)}, which only answers for this tenant's own allocations: another
 * tenant's memory, freed memory and wild pointers all resolve to 0, the caller's cue for
 * CUDA_ERROR_INVALID_VALUE (API calls) or CUDA_ERROR_ILLEGAL_ADDRESS (kernels).
 * <p>
 * Thread safety: {@link #allocate(long)}, {@link #free(long)} and {@link #freeAll()} are serialised by
 * this object's monitor; lookups are lock-free over an immutable snapshot of the allocation table, so
 * kernel threads may resolve addresses while another thread allocates.
 */
public final class DeviceMemory implements AutoCloseable
{
    /** Sorted, immutable view of the allocations: parallel arrays replaced as a whole on each change. */
    private static final class Table
    {
        static final Table EMPTY = new Table(new long[0], new long[0], new long[0]);

        final long[] deviceStarts;
        final long[] sizes;
        final long[] hostStarts;

        Table(final long[] deviceStarts, final long[] sizes, final long[] hostStarts)
        {
            this.deviceStarts = deviceStarts;
            this.sizes = sizes;
            this.hostStarts = hostStarts;
        }

        int indexContaining(final long address)
        {
            int index = Arrays.binarySearch(deviceStarts, address);
            if (index < 0)
            {
                index = -index - 2;
            }
            return index;
        }
    }

    private final DeviceAddressSpace addressSpace;
    private final long quotaBytes;
    private volatile Table table = Table.EMPTY;
    private long usedBytes;

    /**
     * @param addressSpace the GPU's address space, shared with its other tenants.
     * @param quotaBytes   how many bytes this tenant may hold at once (its slice).
     */
    public DeviceMemory(final DeviceAddressSpace addressSpace, final long quotaBytes)
    {
        this.addressSpace = addressSpace;
        this.quotaBytes = quotaBytes;
    }

    /**
     * @return the tenant's quota in bytes.
     */
    public long quotaBytes()
    {
        return quotaBytes;
    }

    /**
     * @return bytes currently allocated by this tenant (requested sizes, as cuMemGetInfo accounts them).
     */
    public synchronized long usedBytes()
    {
        return usedBytes;
    }

    /**
     * @return the number of live allocations.
     */
    public int allocationCount()
    {
        return table.deviceStarts.length;
    }

    /**
     * Allocate zero-filled device memory.
     *
     * @param bytes size in bytes, greater than zero.
     * @return the device address, or 0 when the quota, the address space or the host's memory is exhausted.
     */
    public synchronized long allocate(final long bytes)
    {
        if (bytes <= 0 || bytes > quotaBytes - usedBytes)
        {
            return 0;
        }

        final long deviceAddress = addressSpace.reserve(bytes);
        if (deviceAddress == 0)
        {
            return 0;
        }

        final long hostAddress;
        try
        {
            hostAddress = UnsafeApi.allocateMemory(bytes);
        }
        catch (final OutOfMemoryError ex)
        {
            addressSpace.release(deviceAddress, bytes);
            return 0;
        }
        UnsafeApi.setMemory(hostAddress, bytes, (byte)0);

        final Table current = table;
        final int insertAt = -Arrays.binarySearch(current.deviceStarts, deviceAddress) - 1;
        table = new Table(
            insert(current.deviceStarts, insertAt, deviceAddress),
            insert(current.sizes, insertAt, bytes),
            insert(current.hostStarts, insertAt, hostAddress));
        usedBytes += bytes;

        return deviceAddress;
    }

    /**
     * Free an allocation by its start address.
     *
     * @param deviceAddress an address returned by {@link #allocate(long)}.
     * @return false when the address is not the start of one of this tenant's allocations.
     */
    public synchronized boolean free(final long deviceAddress)
    {
        final Table current = table;
        final int index = Arrays.binarySearch(current.deviceStarts, deviceAddress);
        if (index < 0)
        {
            return false;
        }

        final long size = current.sizes[index];
        table = new Table(
            remove(current.deviceStarts, index), remove(current.sizes, index), remove(current.hostStarts, index));
        UnsafeApi.freeMemory(current.hostStarts[index]);
        addressSpace.release(deviceAddress, size);
        usedBytes -= size;

        return true;
    }

    /**
     * Free everything this tenant holds, as when its session ends.
     *
     * @return how many bytes were freed.
     */
    public synchronized long freeAll()
    {
        final Table current = table;
        table = Table.EMPTY;
        for (int i = 0; i < current.deviceStarts.length; i++)
        {
            UnsafeApi.freeMemory(current.hostStarts[i]);
            addressSpace.release(current.deviceStarts[i], current.sizes[i]);
        }
        final long freed = usedBytes;
        usedBytes = 0;

        return freed;
    }

    /**
     * Resolve a device range to the host memory backing it.
     *
     * @param deviceAddress start of the range.
     * @param length        length of the range in bytes, zero or more.
     * @return the host address of {@code deviceAddress}, or 0 when the range is not wholly inside one of
     * this tenant's allocations.
     */
    public long hostAddress(final long deviceAddress, final long length)
    {
        final Table current = table;
        final int index = current.indexContaining(deviceAddress);
        if (index < 0 || length < 0)
        {
            return 0;
        }

        final long offset = deviceAddress - current.deviceStarts[index];
        if (offset >= current.sizes[index] || length > current.sizes[index] - offset)
        {
            return 0;
        }

        return current.hostStarts[index] + offset;
    }

    /**
     * The allocation containing an address, as cuMemGetAddressRange reports it.
     *
     * @param deviceAddress any address inside an allocation.
     * @return the allocation's start, or 0 when the address is not inside one of this tenant's allocations.
     */
    public long allocationStart(final long deviceAddress)
    {
        final Table current = table;
        final int index = current.indexContaining(deviceAddress);
        if (index < 0 || deviceAddress - current.deviceStarts[index] >= current.sizes[index])
        {
            return 0;
        }
        return current.deviceStarts[index];
    }

    /**
     * @param allocationStart the start of an allocation.
     * @return its size, or 0 when it is not the start of one of this tenant's allocations.
     */
    public long allocationSize(final long allocationStart)
    {
        final Table current = table;
        final int index = Arrays.binarySearch(current.deviceStarts, allocationStart);
        return index < 0 ? 0 : current.sizes[index];
    }

    public void close()
    {
        freeAll();
    }

    private static long[] insert(final long[] values, final int index, final long value)
    {
        final long[] result = new long[values.length + 1];
        System.arraycopy(values, 0, result, 0, index);
        result[index] = value;
        System.arraycopy(values, index, result, index + 1, values.length - index);
        return result;
    }

    private static long[] remove(final long[] values, final int index)
    {
        final long[] result = new long[values.length - 1];
        System.arraycopy(values, 0, result, 0, index);
        System.arraycopy(values, index + 1, result, index, values.length - index - 1);
        return result;
    }
}
