package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.CallSlot;
import dev.bitfusion.agent.wire.ServerSession;
import org.agrona.UnsafeApi;

import java.util.ArrayList;
import java.util.List;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Mapped (zero-copy) host memory. A remote GPU cannot reach this process's memory, so each mapped range
 * has a device copy of the same size in the tenant's slice, which cuMemHostGetDevicePointer hands out
 * (and which launch parameters holding the range's host address are rewritten to, see {@link HostMappings}).
 * The two are kept coherent where CUDA programs may rely on coherence: host writes travel before each
 * kernel launch, and the bytes the GPU changed come back after each blocking synchronisation (context,
 * stream, event, synchronous copy to the host). A snapshot of what both sides last agreed on tells which
 * side changed which byte, so host writes the GPU did not touch survive a pull. What this cannot give is
 * concurrent access while a kernel runs (a host spinning on a flag a running kernel sets); libraries such
 * as cuDNN only need the synchronised view.
 * <p>
 * Thread safety: thread safe; exchanges are serialised, and a program without mapped memory pays one
 * volatile read per launch and synchronisation.
 */
final class MappedMemory
{
    /** Granularity at which the GPU's changes are looked for in a pulled copy. */
    private static final int MERGE_BLOCK = 4096;

    /** A mapped range's device copy and the bytes both sides last agreed on, in native memory. */
    private record Range(long host, long bytes, int device, long deviceCopy, long agreed, long incoming)
    {
    }

    private final Sessions sessions;
    private final ContextState contexts;
    private final DeviceAllocations allocations;
    private final HostMappings translations;
    private final List<Range> ranges = new ArrayList<>();
    private final Diagnostics diagnostics;
    private volatile int count;

    MappedMemory(
        final Sessions sessions, final ContextState contexts, final DeviceAllocations allocations,
        final Diagnostics diagnostics)
    {
        this.sessions = sessions;
        this.contexts = contexts;
        this.allocations = allocations;
        this.diagnostics = diagnostics;
        this.translations = new HostMappings(allocations::isDevice);
    }

    /**
     * @return the table that rewrites host addresses of mapped memory in launch parameters.
     */
    HostMappings translations()
    {
        return translations;
    }

    /**
     * Give a host range its device copy on the current context's GPU, filled with the range's contents.
     */
    synchronized int map(final long host, final long bytes)
    {
        final ServerSession session = contexts.currentSession();
        if (session == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final int device = contexts.currentDevice();
        final CallSlot slot = session.slot();
        int status = session.await(slot, session.proxy().memAlloc(slot, bytes));
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        final long deviceCopy = slot.value1();
        final long agreed = UnsafeApi.allocateMemory(bytes);
        final long incoming = UnsafeApi.allocateMemory(bytes);
        NativeMemory.copy(host, agreed, bytes);
        status = Transfers.toDevice(session, 0, deviceCopy, agreed, bytes);
        if (status != CUDA_SUCCESS)
        {
            session.proxy().memFree(deviceCopy);
            UnsafeApi.freeMemory(agreed);
            UnsafeApi.freeMemory(incoming);
            return status;
        }
        allocations.add(deviceCopy, bytes, device);
        ranges.add(new Range(host, bytes, device, deviceCopy, agreed, incoming));
        translations.add(host, bytes, deviceCopy);
        count = ranges.size();
        return CUDA_SUCCESS;
    }

    /**
     * Free the device copy of the range mapped at {@code host}, if there is one.
     */
    synchronized void unmap(final long host)
    {
        for (int i = 0; i < ranges.size(); i++)
        {
            final Range range = ranges.get(i);
            if (range.host() == host)
            {
                ranges.remove(i);
                count = ranges.size();
                translations.remove(host);
                allocations.remove(range.deviceCopy());
                final ServerSession session = sessions.isInitialised() ? sessions.of(range.device()) : null;
                if (session != null)
                {
                    session.proxy().memFree(range.deviceCopy());
                }
                UnsafeApi.freeMemory(range.agreed());
                UnsafeApi.freeMemory(range.incoming());
                return;
            }
        }
    }

    /**
     * @return the device copy's address for a pointer into mapped memory, or 0 when it is not mapped.
     */
    synchronized long devicePointer(final long pointer)
    {
        for (final Range range : ranges)
        {
            if (Long.compareUnsigned(pointer - range.host(), range.bytes()) < 0)
            {
                return range.deviceCopy() + (pointer - range.host());
            }
        }
        return 0;
    }

    /**
     * Before a launch: host writes since the last exchange go to the device copies on the current GPU.
     */
    int pushHostWrites()
    {
        if (count == 0)
        {
            return CUDA_SUCCESS;
        }
        synchronized (this)
        {
            final int device = contexts.currentDevice();
            for (final Range range : ranges)
            {
                if (range.device() != device)
                {
                    continue;
                }
                final long first = firstDifference(range.host(), range.agreed(), range.bytes());
                if (first == range.bytes())
                {
                    continue;
                }
                final long end = lastDifference(range.host(), range.agreed(), range.bytes()) + 1;
                NativeMemory.copy(range.host() + first, range.agreed() + first, end - first);
                final int status = Transfers.toDevice(
                    sessions.of(device), 0, range.deviceCopy() + first, range.agreed() + first, end - first);
                if (status != CUDA_SUCCESS)
                {
                    return status;
                }
            }
            return CUDA_SUCCESS;
        }
    }

    /**
     * After a blocking synchronisation that succeeded: the bytes the GPU changed come back to the host.
     *
     * @return {@code status} unchanged, or the failed copy's status when {@code status} was a success.
     */
    int pullDeviceWritesAfter(final int status)
    {
        if (status != CUDA_SUCCESS || count == 0)
        {
            return status;
        }
        synchronized (this)
        {
            final int device = contexts.currentDevice();
            for (final Range range : ranges)
            {
                if (range.device() != device)
                {
                    continue;
                }
                final int pulled = Transfers.toHost(
                    sessions.of(device), 0, range.incoming(), range.deviceCopy(), range.bytes(), diagnostics);
                if (pulled != CUDA_SUCCESS)
                {
                    return pulled;
                }
                mergeDeviceWrites(range);
            }
            return CUDA_SUCCESS;
        }
    }

    /** Only the bytes the GPU changed since the last exchange are taken: host writes it did not touch stay. */
    private static void mergeDeviceWrites(final Range range)
    {
        for (long block = 0; block < range.bytes(); block += MERGE_BLOCK)
        {
            final long length = Math.min(MERGE_BLOCK, range.bytes() - block);
            if (firstDifference(range.incoming() + block, range.agreed() + block, length) == length)
            {
                continue;
            }
            for (long i = block; i < block + length; i++)
            {
                final byte incoming = UnsafeApi.getByte(range.incoming() + i);
                if (incoming != UnsafeApi.getByte(range.agreed() + i))
                {
                    UnsafeApi.putByte(range.agreed() + i, incoming);
                    UnsafeApi.putByte(range.host() + i, incoming);
                }
            }
        }
    }

    /**
     * @return the offset of the first byte where the two regions differ, or {@code bytes} when they agree.
     */
    static long firstDifference(final long a, final long b, final long bytes)
    {
        long i = 0;
        while (i + Long.BYTES <= bytes && UnsafeApi.getLong(a + i) == UnsafeApi.getLong(b + i))
        {
            i += Long.BYTES;
        }
        while (i < bytes && UnsafeApi.getByte(a + i) == UnsafeApi.getByte(b + i))
        {
            i++;
        }
        return i;
    }

    /**
     * @return the offset of the last byte where the two regions differ; only called when one does.
     */
    private static long lastDifference(final long a, final long b, final long bytes)
    {
        long end = bytes;
        while (end >= Long.BYTES && UnsafeApi.getLong(a + end - Long.BYTES) == UnsafeApi.getLong(b + end - Long.BYTES))
        {
            end -= Long.BYTES;
        }
        while (UnsafeApi.getByte(a + end - 1) == UnsafeApi.getByte(b + end - 1))
        {
            end--;
        }
        return end - 1;
    }
}
