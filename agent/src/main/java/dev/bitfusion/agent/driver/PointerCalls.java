package dev.bitfusion.agent.driver;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Pointer attributes (cuPointerGetAttribute/s, behind cudaPointerGetAttributes), answered from what this
 * process knows without a round trip: device allocations from {@link DeviceAllocations}, page-locked host
 * memory from {@link HostRanges}. Every attribute writes exactly the type cuda.h documents for it: booleans
 * and enums as unsigned int, addresses and sizes as 64-bit values.
 * <p>
 * Thread safety: thread safe.
 */
public final class PointerCalls
{
    private static final int CU_POINTER_ATTRIBUTE_CONTEXT = 1;
    private static final int CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2;
    private static final int CU_POINTER_ATTRIBUTE_DEVICE_POINTER = 3;
    private static final int CU_POINTER_ATTRIBUTE_HOST_POINTER = 4;
    private static final int CU_POINTER_ATTRIBUTE_SYNC_MEMOPS = 6;
    private static final int CU_POINTER_ATTRIBUTE_IS_MANAGED = 8;
    private static final int CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9;
    private static final int CU_POINTER_ATTRIBUTE_IS_LEGACY_CUDA_IPC_CAPABLE = 10;
    private static final int CU_POINTER_ATTRIBUTE_RANGE_START_ADDR = 11;
    private static final int CU_POINTER_ATTRIBUTE_RANGE_SIZE = 12;
    private static final int CU_POINTER_ATTRIBUTE_MAPPED = 13;
    private static final int CU_MEMORYTYPE_HOST = 1;
    private static final int CU_MEMORYTYPE_DEVICE = 2;

    /** What a pointer is: CUDA memory of this process, device or host, and the range holding it. */
    private record Described(boolean isDevice, long base, long bytes)
    {
    }

    private final ContextState contexts;
    private final HostRanges hostRanges;
    private final DeviceAllocations allocations;
    private final Diagnostics diagnostics;

    PointerCalls(
        final ContextState contexts, final HostRanges hostRanges, final DeviceAllocations allocations,
        final Diagnostics diagnostics)
    {
        this.contexts = contexts;
        this.hostRanges = hostRanges;
        this.allocations = allocations;
        this.diagnostics = diagnostics;
    }

    public int cuPointerGetAttribute(final long data, final int attribute, final long ptr)
    {
        if (data == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (attributeSize(attribute) == 0)
        {
            return unsupported(attribute);
        }
        final Described described = describe(ptr);
        return described == null ? CUDA_ERROR_INVALID_VALUE : fill(data, attribute, ptr, described);
    }

    /**
     * Unlike the single form, a pointer that is not CUDA memory is no error here: every attribute is set to
     * its zero value, which cudart reports as cudaMemoryTypeUnregistered.
     *
     * @param attributes address of {@code numAttributes} CUpointer_attribute values.
     * @param data       address of {@code numAttributes} addresses to write each attribute to (NULL ones skipped).
     */
    public int cuPointerGetAttributes(final int numAttributes, final long attributes, final long data, final long ptr)
    {
        if (attributes == 0 || data == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        for (int i = 0; i < numAttributes; i++)
        {
            final int attribute = NativeMemory.getInt(attributes + (long)i * Integer.BYTES);
            if (attributeSize(attribute) == 0)
            {
                return unsupported(attribute);
            }
        }
        final Described described = describe(ptr);
        for (int i = 0; i < numAttributes; i++)
        {
            final int attribute = NativeMemory.getInt(attributes + (long)i * Integer.BYTES);
            final long out = NativeMemory.getLong(data + (long)i * Long.BYTES);
            if (out == 0)
            {
                continue;
            }
            NativeMemory.zero(out, attributeSize(attribute));
            if (described != null)
            {
                // An attribute that does not apply (a host pointer's device alias) keeps its zero value.
                fill(out, attribute, ptr, described);
            }
        }
        return CUDA_SUCCESS;
    }

    private Described describe(final long pointer)
    {
        final HostRanges.Range host = hostRanges.find(pointer);
        if (host != null)
        {
            return new Described(false, host.base(), host.bytes());
        }
        final long base = allocations.baseOf(pointer);
        return base == 0 ? null : new Described(true, base, allocations.lengthOf(base));
    }

    /** Bytes each supported attribute writes; 0 for attributes not served. */
    private static int attributeSize(final int attribute)
    {
        return switch (attribute)
        {
            case CU_POINTER_ATTRIBUTE_CONTEXT, CU_POINTER_ATTRIBUTE_DEVICE_POINTER, CU_POINTER_ATTRIBUTE_HOST_POINTER,
                CU_POINTER_ATTRIBUTE_RANGE_START_ADDR, CU_POINTER_ATTRIBUTE_RANGE_SIZE -> Long.BYTES;
            case CU_POINTER_ATTRIBUTE_MEMORY_TYPE, CU_POINTER_ATTRIBUTE_SYNC_MEMOPS, CU_POINTER_ATTRIBUTE_IS_MANAGED,
                CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, CU_POINTER_ATTRIBUTE_IS_LEGACY_CUDA_IPC_CAPABLE,
                CU_POINTER_ATTRIBUTE_MAPPED -> Integer.BYTES;
            default -> 0;
        };
    }

    private int unsupported(final int attribute)
    {
        return diagnostics.unsupported("pointer attribute " + attribute);
    }

    private int fill(final long data, final int attribute, final long pointer, final Described described)
    {
        switch (attribute)
        {
            case CU_POINTER_ATTRIBUTE_CONTEXT:
                NativeMemory.putLong(data, contexts.current());
                return CUDA_SUCCESS;
            case CU_POINTER_ATTRIBUTE_MEMORY_TYPE:
                NativeMemory.putInt(data, described.isDevice() ? CU_MEMORYTYPE_DEVICE : CU_MEMORYTYPE_HOST);
                return CUDA_SUCCESS;
            case CU_POINTER_ATTRIBUTE_DEVICE_POINTER:
                // Host memory has no device alias: a remote GPU cannot map this process's memory.
                if (!described.isDevice())
                {
                    return CUDA_ERROR_INVALID_VALUE;
                }
                NativeMemory.putLong(data, pointer);
                return CUDA_SUCCESS;
            case CU_POINTER_ATTRIBUTE_HOST_POINTER:
                if (described.isDevice())
                {
                    return CUDA_ERROR_INVALID_VALUE;
                }
                NativeMemory.putLong(data, pointer);
                return CUDA_SUCCESS;
            case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL:
            {
                final int device = described.isDevice() ? allocations.deviceOf(pointer) : contexts.currentDevice();
                if (device < 0)
                {
                    return CUDA_ERROR_INVALID_CONTEXT;
                }
                NativeMemory.putInt(data, device);
                return CUDA_SUCCESS;
            }
            case CU_POINTER_ATTRIBUTE_SYNC_MEMOPS:
            case CU_POINTER_ATTRIBUTE_MAPPED:
                // Synchronous copies always complete before they return here, and every range is backed.
                NativeMemory.putInt(data, 1);
                return CUDA_SUCCESS;
            case CU_POINTER_ATTRIBUTE_IS_MANAGED:
            case CU_POINTER_ATTRIBUTE_IS_LEGACY_CUDA_IPC_CAPABLE:
                NativeMemory.putInt(data, 0);
                return CUDA_SUCCESS;
            case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
                NativeMemory.putLong(data, described.base());
                return CUDA_SUCCESS;
            case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
                NativeMemory.putLong(data, described.bytes());
                return CUDA_SUCCESS;
            default:
                return unsupported(attribute);
        }
    }
}
