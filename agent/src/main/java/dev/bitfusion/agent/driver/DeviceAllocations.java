package dev.bitfusion.agent.driver;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The device address ranges this process holds (allocations and module globals), so unified-addressing
 * copies (cuMemcpy, cudaMemcpyDefault, CU_MEMORYTYPE_UNIFIED) can tell a device pointer from a host one
 * without asking the server. Device pointers come from the server and never overlap the client's own
 * address space in a way that matters here: a pointer inside a range listed here is a device pointer,
 * anything else is host memory.
 * <p>
 * Thread safety: thread safe.
 */
final class DeviceAllocations
{
    private final ConcurrentSkipListMap<Long, Long> lengthByBase = new ConcurrentSkipListMap<>(Long::compareUnsigned);
    private final Map<Long, Integer> deviceByBase = new ConcurrentHashMap<>();

    /**
     * @param base   first device address of the range.
     * @param bytes  its length.
     * @param device the GPU (ordinal) it lies on.
     */
    void add(final long base, final long bytes, final int device)
    {
        if (base != 0)
        {
            deviceByBase.put(base, device);
            lengthByBase.put(base, Math.max(1, bytes));
        }
    }

    /**
     * @param address any address.
     * @return the GPU of the device range holding it, or -1 when it is in none.
     */
    int deviceOf(final long address)
    {
        final long base = baseOf(address);
        final Integer device = base == 0 ? null : deviceByBase.get(base);
        return device == null ? -1 : device;
    }

    /**
     * @param base the first address of a range added before; unknown addresses are ignored.
     */
    void remove(final long base)
    {
        lengthByBase.remove(base);
        deviceByBase.remove(base);
    }

    /** Forget every range of a GPU: the context that owned them is gone (device reset). */
    void clear(final int device)
    {
        deviceByBase.entrySet().removeIf(entry ->
        {
            if (entry.getValue() != device)
            {
                return false;
            }
            lengthByBase.remove(entry.getKey());
            return true;
        });
    }

    /**
     * @param address any address.
     * @return the first address of the device range holding it, or 0 when it is in none.
     */
    long baseOf(final long address)
    {
        final Map.Entry<Long, Long> range = lengthByBase.floorEntry(address);
        return range != null && Long.compareUnsigned(address - range.getKey(), range.getValue()) < 0 ?
            range.getKey() : 0;
    }

    /**
     * @param base the first address of a range.
     * @return its length, or 0 when no range starts there.
     */
    long lengthOf(final long base)
    {
        final Long length = lengthByBase.get(base);
        return length == null ? 0 : length;
    }

    /**
     * @param address any address.
     * @return whether it lies inside a device range this process holds.
     */
    boolean isDevice(final long address)
    {
        final Map.Entry<Long, Long> range = lengthByBase.floorEntry(address);
        return range != null && Long.compareUnsigned(address - range.getKey(), range.getValue()) < 0;
    }
}
