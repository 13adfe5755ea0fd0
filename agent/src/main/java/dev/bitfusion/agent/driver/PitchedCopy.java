package dev.bitfusion.agent.driver;

/**
 * A pitched copy as the program described it, read once from its descriptor: each side's first byte, row
 * pitch and slice pitch, whether it is device memory (unified addresses are resolved through this process's
 * table of device ranges), and the copy's shape. The copy runs one row at a time, one slice at a time where
 * each slice is contiguous on both sides, or as one block where the whole copy is.
 * <p>
 * CUDA_MEMCPY2D (cuMemcpy2D):
 * <pre>
 *   0 srcXInBytes   8 srcY   16 srcMemoryType   24 srcHost   32 srcDevice   40 srcArray   48 srcPitch
 *  56 dstXInBytes  64 dstY   72 dstMemoryType   80 dstHost   88 dstDevice   96 dstArray  104 dstPitch
 * 112 WidthInBytes 120 Height
 * </pre>
 * CUDA_MEMCPY3D (cuMemcpy3D), whose sides also have a slice (z) and a slice height:
 * <pre>
 *   0 srcXInBytes   8 srcY   16 srcZ   24 srcLOD   32 srcMemoryType   40 srcHost   48 srcDevice   56 srcArray
 *  72 srcPitch     80 srcHeight
 *  88 dstXInBytes  96 dstY  104 dstZ  112 dstLOD  120 dstMemoryType  128 dstHost  136 dstDevice  144 dstArray
 * 160 dstPitch    168 dstHeight
 * 176 WidthInBytes 184 Height 192 Depth
 * </pre>
 * Thread safety: immutable.
 */
final class PitchedCopy
{
    /** Where one side's fields lie in a descriptor, from the side's first field. */
    private record Layout(int side, int x, int y, int z, int memoryType, int host, int device, int array,
        int pitch, int height)
    {
    }

    private static final Layout SRC_2D = new Layout(0, 0, 8, -1, 16, 24, 32, 40, 48, -1);
    private static final Layout DST_2D = new Layout(56, 0, 8, -1, 16, 24, 32, 40, 48, -1);
    private static final int WIDTH_2D = 112;
    private static final int HEIGHT_2D = 120;
    private static final Layout SRC_3D = new Layout(0, 0, 8, 16, 32, 40, 48, 56, 72, 80);
    private static final Layout DST_3D = new Layout(88, 0, 8, 16, 32, 40, 48, 56, 72, 80);
    private static final int WIDTH_3D = 176;
    private static final int HEIGHT_3D = 184;
    private static final int DEPTH_3D = 192;

    /** CUmemorytype values of cuda.h. */
    private static final int CU_MEMORYTYPE_HOST = 1;
    private static final int CU_MEMORYTYPE_DEVICE = 2;
    private static final int CU_MEMORYTYPE_ARRAY = 3;
    private static final int CU_MEMORYTYPE_UNIFIED = 4;
    private static final long ARRAY = -1;

    private final long width;
    private final long height;
    private final long depth;
    private final long srcPitch;
    private final long dstPitch;
    private final long srcSlicePitch;
    private final long dstSlicePitch;
    private final long src;
    private final long dst;
    private final boolean srcDevice;
    private final boolean dstDevice;

    private PitchedCopy(
        final long descriptor, final Layout srcLayout, final Layout dstLayout, final long width, final long height,
        final long depth, final DeviceAllocations allocations)
    {
        this.width = width;
        this.height = height;
        this.depth = depth;
        srcPitch = NativeMemory.getLong(descriptor + srcLayout.side() + srcLayout.pitch());
        dstPitch = NativeMemory.getLong(descriptor + dstLayout.side() + dstLayout.pitch());
        srcSlicePitch = srcPitch * sliceHeight(descriptor, srcLayout, height);
        dstSlicePitch = dstPitch * sliceHeight(descriptor, dstLayout, height);
        src = base(descriptor, srcLayout, srcSlicePitch);
        dst = base(descriptor, dstLayout, dstSlicePitch);
        srcDevice = isDevice(descriptor, srcLayout, src, allocations);
        dstDevice = isDevice(descriptor, dstLayout, dst, allocations);
    }

    /**
     * @param descriptor the address of a CUDA_MEMCPY2D.
     */
    static PitchedCopy of2D(final long descriptor, final DeviceAllocations allocations)
    {
        return new PitchedCopy(descriptor, SRC_2D, DST_2D, NativeMemory.getLong(descriptor + WIDTH_2D),
            NativeMemory.getLong(descriptor + HEIGHT_2D), 1, allocations);
    }

    /**
     * @param descriptor the address of a CUDA_MEMCPY3D.
     */
    static PitchedCopy of3D(final long descriptor, final DeviceAllocations allocations)
    {
        return new PitchedCopy(descriptor, SRC_3D, DST_3D, NativeMemory.getLong(descriptor + WIDTH_3D),
            NativeMemory.getLong(descriptor + HEIGHT_3D), NativeMemory.getLong(descriptor + DEPTH_3D), allocations);
    }

    boolean hasArray()
    {
        return src == ARRAY || dst == ARRAY;
    }

    boolean isValid()
    {
        return src != 0 && dst != 0 && (height <= 1 && depth <= 1 || (srcPitch >= width && dstPitch >= width)) &&
            (depth <= 1 || (srcSlicePitch >= srcPitch * height && dstSlicePitch >= dstPitch * height));
    }

    boolean srcIsDevice()
    {
        return srcDevice;
    }

    boolean dstIsDevice()
    {
        return dstDevice;
    }

    /**
     * @return how many pieces the copy runs in: one, one per slice, or one per row.
     */
    long pieces()
    {
        if (isWhole())
        {
            return 1;
        }
        return areSlicesWhole() ? depth : height * depth;
    }

    /**
     * @return the bytes of each piece.
     */
    long pieceBytes()
    {
        if (isWhole())
        {
            return width * Math.max(1, height) * Math.max(1, depth);
        }
        return areSlicesWhole() ? width * Math.max(1, height) : width;
    }

    long srcPiece(final long piece)
    {
        return src + offset(piece, srcPitch, srcSlicePitch);
    }

    long dstPiece(final long piece)
    {
        return dst + offset(piece, dstPitch, dstSlicePitch);
    }

    private long offset(final long piece, final long pitch, final long slicePitch)
    {
        if (isWhole())
        {
            return 0;
        }
        return areSlicesWhole() ? piece * slicePitch : (piece / height) * slicePitch + (piece % height) * pitch;
    }

    /** Rows follow each other with no gap on both sides. */
    private boolean areSlicesWhole()
    {
        return height <= 1 || (srcPitch == width && dstPitch == width);
    }

    /** Slices follow each other with no gap on both sides too. */
    private boolean isWhole()
    {
        return areSlicesWhole() && (depth <= 1 ||
            (srcSlicePitch == width * Math.max(1, height) && dstSlicePitch == width * Math.max(1, height)));
    }

    /** Rows of one slice: the side's own height where the descriptor gives one, else the copy's. */
    private static long sliceHeight(final long descriptor, final Layout layout, final long height)
    {
        return layout.height() < 0 ? height : NativeMemory.getLong(descriptor + layout.side() + layout.height());
    }

    /** First byte one side names, 0 when invalid, {@link #ARRAY} for an array. */
    private static long base(final long descriptor, final Layout layout, final long slicePitch)
    {
        final long side = descriptor + layout.side();
        final long x = NativeMemory.getLong(side + layout.x());
        final long y = NativeMemory.getLong(side + layout.y());
        final long z = layout.z() < 0 ? 0 : NativeMemory.getLong(side + layout.z());
        final long pitch = NativeMemory.getLong(side + layout.pitch());
        final long start;
        switch (NativeMemory.getInt(side + layout.memoryType()))
        {
            case CU_MEMORYTYPE_HOST:
                start = NativeMemory.getLong(side + layout.host());
                break;
            case CU_MEMORYTYPE_DEVICE:
            case CU_MEMORYTYPE_UNIFIED:
                start = NativeMemory.getLong(side + layout.device());
                break;
            case CU_MEMORYTYPE_ARRAY:
                return ARRAY;
            default:
                return 0;
        }
        return start == 0 ? 0 : start + z * slicePitch + y * pitch + x;
    }

    private static boolean isDevice(
        final long descriptor, final Layout layout, final long address, final DeviceAllocations allocations)
    {
        final int type = NativeMemory.getInt(descriptor + layout.side() + layout.memoryType());
        return type == CU_MEMORYTYPE_DEVICE || (type == CU_MEMORYTYPE_UNIFIED && allocations.isDevice(address));
    }
}
