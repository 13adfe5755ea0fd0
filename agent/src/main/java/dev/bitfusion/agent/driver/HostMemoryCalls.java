package dev.bitfusion.agent.driver;

import org.agrona.UnsafeApi;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Page-locked and mapped host memory: cuMemHostAlloc, cuMemAllocHost, cuMemFreeHost, cuMemHostRegister,
 * cuMemHostUnregister, cuMemHostGetFlags and cuMemHostGetDevicePointer. Page-locked memory is ordinary
 * memory of this process, remembered with its flags ({@link HostRanges}); mapped memory gets a device copy
 * kept coherent at launches and synchronisations ({@link MappedMemory}).
 * <p>
 * Thread safety: thread safe.
 */
public final class HostMemoryCalls
{
    private static final int HOST_ALLOC_ALIGNMENT = 4096;
    private static final int CU_MEMHOSTALLOC_DEVICEMAP = 0x02;
    private static final int CU_MEMHOSTREGISTER_DEVICEMAP = 0x02;

    private final HostRanges ranges;
    private final MappedMemory mapped;

    HostMemoryCalls(final HostRanges ranges, final MappedMemory mapped)
    {
        this.ranges = ranges;
        this.mapped = mapped;
    }

    /**
     * Page-aligned memory of this process; with CU_MEMHOSTALLOC_DEVICEMAP it is zeroed and mapped.
     */
    public int cuMemHostAlloc(final long pp, final long bytesize, final int flags)
    {
        if (pp == 0 || bytesize < 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final long bytes = Math.max(1, bytesize);
        final long allocation;
        try
        {
            allocation = UnsafeApi.allocateMemory(bytes + HOST_ALLOC_ALIGNMENT - 1);
        }
        catch (final OutOfMemoryError ex)
        {
            return CUDA_ERROR_OUT_OF_MEMORY;
        }
        final long memory = (allocation + HOST_ALLOC_ALIGNMENT - 1) & -(long)HOST_ALLOC_ALIGNMENT;
        final boolean mapping = (flags & CU_MEMHOSTALLOC_DEVICEMAP) != 0;
        if (mapping)
        {
            NativeMemory.zero(memory, bytes);
            final int status = mapped.map(memory, bytes);
            if (status != CUDA_SUCCESS)
            {
                UnsafeApi.freeMemory(allocation);
                return status;
            }
        }
        if (!ranges.add(new HostRanges.Range(memory, bytes, flags, true, allocation)))
        {
            if (mapping)
            {
                mapped.unmap(memory);
            }
            UnsafeApi.freeMemory(allocation);
            return CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED;
        }
        NativeMemory.putLong(pp, memory);
        return CUDA_SUCCESS;
    }

    public int cuMemAllocHost(final long pp, final long bytesize)
    {
        return cuMemHostAlloc(pp, bytesize, 0);
    }

    public int cuMemFreeHost(final long p)
    {
        final HostRanges.Range range = ranges.take(p, true);
        if (range == null)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if ((range.flags() & CU_MEMHOSTALLOC_DEVICEMAP) != 0)
        {
            mapped.unmap(range.base());
        }
        UnsafeApi.freeMemory(range.allocation());
        return CUDA_SUCCESS;
    }

    public int cuMemHostRegister(final long p, final long bytesize, final int flags)
    {
        if (p == 0 || bytesize <= 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (!ranges.add(new HostRanges.Range(p, bytesize, flags, false, 0)))
        {
            return CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED;
        }
        if ((flags & CU_MEMHOSTREGISTER_DEVICEMAP) == 0)
        {
            return CUDA_SUCCESS;
        }
        final int status = mapped.map(p, bytesize);
        if (status != CUDA_SUCCESS)
        {
            ranges.take(p, false);
        }
        return status;
    }

    public int cuMemHostUnregister(final long p)
    {
        final HostRanges.Range range = ranges.take(p, false);
        if (range == null)
        {
            return CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED;
        }
        if ((range.flags() & CU_MEMHOSTREGISTER_DEVICEMAP) != 0)
        {
            mapped.unmap(range.base());
        }
        return CUDA_SUCCESS;
    }

    public int cuMemHostGetFlags(final long pFlags, final long p)
    {
        if (pFlags == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final HostRanges.Range range = ranges.find(p);
        if (range == null)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        NativeMemory.putInt(pFlags, range.flags());
        return CUDA_SUCCESS;
    }

    /**
     * The device copy of mapped host memory, at the pointer's offset; memory that is not mapped has none.
     */
    public int cuMemHostGetDevicePointer(final long pdptr, final long p, final int flags)
    {
        if (pdptr == 0 || p == 0 || flags != 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final long device = mapped.devicePointer(p);
        if (device == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        NativeMemory.putLong(pdptr, device);
        return CUDA_SUCCESS;
    }
}
