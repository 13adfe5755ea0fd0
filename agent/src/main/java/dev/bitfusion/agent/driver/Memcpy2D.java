package dev.bitfusion.agent.driver;

/**
 * A CUDA_MEMCPY2D descriptor as the program laid it out, read once: each side's first byte and pitch,
 * whether it is device memory (unified addresses are resolved through this process's table of device
 * ranges), and the copy's shape, one row at a time or one block when both sides are contiguous.
 * <pre>
 *   0 srcXInBytes   8 srcY   16 srcMemoryType   24 srcHost   32 srcDevice   40 srcArray   48 srcPitch
 *  56 dstXInBytes  64 dstY   72 dstMemoryType   80 dstHost   88 dstDevice   96 dstArray  104 dstPitch
 * 112 WidthInBytes 120 Height
 * </pre>
 * Thread safety: immutable.
 */
final class Memcpy2D
{
    private static final int SRC = 0;
    private static final int DST = 56;
    private static final int X_OFFSET = 0;
    private static final int Y_OFFSET = 8;
    private static final int MEMORY_TYPE_OFFSET = 16;
    private static final int HOST_OFFSET = 24;
    private static final int DEVICE_OFFSET = 32;
    private static final int PITCH_OFFSET = 48;
    private static final int WIDTH_OFFSET = 112;
    private static final int HEIGHT_OFFSET = 120;

    /** CUmemorytype values of cuda.h. */
    private static final int CU_MEMORYTYPE_HOST = 1;
    private static final int CU_MEMORYTYPE_DEVICE = 2;
    private static final int CU_MEMORYTYPE_ARRAY = 3;
    private static final int CU_MEMORYTYPE_UNIFIED = 4;
    private static final long ARRAY = -1;

    private final long width;
    private final long height;
    private final long srcPitch;
    private final long dstPitch;
    private final long src;
    private final long dst;
    private final boolean srcDevice;
    private final boolean dstDevice;

    Memcpy2D(final long descriptor, final DeviceAllocations allocations)
    {
        width = NativeMemory.getLong(descriptor + WIDTH_OFFSET);
        height = NativeMemory.getLong(descriptor + HEIGHT_OFFSET);
        srcPitch = NativeMemory.getLong(descriptor + SRC + PITCH_OFFSET);
        dstPitch = NativeMemory.getLong(descriptor + DST + PITCH_OFFSET);
        src = base(descriptor + SRC);
        dst = base(descriptor + DST);
        srcDevice = isDevice(descriptor + SRC, src, allocations);
        dstDevice = isDevice(descriptor + DST, dst, allocations);
    }

    boolean hasArray()
    {
        return src == ARRAY || dst == ARRAY;
    }

    boolean isValid()
    {
        return src != 0 && dst != 0 && (height <= 1 || (srcPitch >= width && dstPitch >= width));
    }

    boolean srcIsDevice()
    {
        return srcDevice;
    }

    boolean dstIsDevice()
    {
        return dstDevice;
    }

    private boolean isContiguous()
    {
        return height <= 1 || (srcPitch == width && dstPitch == width);
    }

    long rows()
    {
        return isContiguous() ? 1 : height;
    }

    long rowBytes()
    {
        return isContiguous() ? width * Math.max(1, height) : width;
    }

    long srcRow(final long row)
    {
        return src + row * srcPitch;
    }

    long dstRow(final long row)
    {
        return dst + row * dstPitch;
    }

    /** First byte one side names, 0 when invalid, {@link #ARRAY} for an array. */
    private static long base(final long side)
    {
        final long x = NativeMemory.getLong(side + X_OFFSET);
        final long y = NativeMemory.getLong(side + Y_OFFSET);
        final long pitch = NativeMemory.getLong(side + PITCH_OFFSET);
        switch (NativeMemory.getInt(side + MEMORY_TYPE_OFFSET))
        {
            case CU_MEMORYTYPE_HOST:
                final long host = NativeMemory.getLong(side + HOST_OFFSET);
                return host == 0 ? 0 : host + y * pitch + x;
            case CU_MEMORYTYPE_DEVICE:
            case CU_MEMORYTYPE_UNIFIED:
                final long device = NativeMemory.getLong(side + DEVICE_OFFSET);
                return device == 0 ? 0 : device + y * pitch + x;
            case CU_MEMORYTYPE_ARRAY:
                return ARRAY;
            default:
                return 0;
        }
    }

    private static boolean isDevice(final long side, final long address, final DeviceAllocations allocations)
    {
        final int type = NativeMemory.getInt(side + MEMORY_TYPE_OFFSET);
        return type == CU_MEMORYTYPE_DEVICE || (type == CU_MEMORYTYPE_UNIFIED && allocations.isDevice(address));
    }
}
