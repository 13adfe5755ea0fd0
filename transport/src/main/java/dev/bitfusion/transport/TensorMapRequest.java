package dev.bitfusion.transport;

/**
 * Layout of a TensorMapEncode request's data: the arguments of cuTensorMapEncodeTiled,
 * cuTensorMapEncodeIm2col or cuTensorMapReplaceAddress, little-endian at fixed offsets, with arrays at
 * their largest rank. The server's tensor map library (server/src/main/c) reads the same layout as a
 * C struct, so the offsets below must stay in step with it.
 * <p>
 * Tensor maps (Hopper's TMA descriptors) are built by the driver on the host and their format is private,
 * so they are built where the GPU is and the 128 bytes come back.
 */
public final class TensorMapRequest
{
    public static final int KIND_TILED = 0;
    public static final int KIND_IM2COL = 1;
    public static final int KIND_REPLACE_ADDRESS = 2;

    public static final int MAX_RANK = 5;
    public static final int TENSOR_MAP_BYTES = 128;

    public static final int KIND_OFFSET = 0;
    public static final int DATA_TYPE_OFFSET = 4;
    public static final int RANK_OFFSET = 8;
    public static final int INTERLEAVE_OFFSET = 12;
    public static final int SWIZZLE_OFFSET = 16;
    public static final int L2_PROMOTION_OFFSET = 20;
    public static final int OOB_FILL_OFFSET = 24;
    public static final int CHANNELS_PER_PIXEL_OFFSET = 28;
    public static final int PIXELS_PER_COLUMN_OFFSET = 32;
    public static final int GLOBAL_ADDRESS_OFFSET = 40;
    /** uint64 x 5. */
    public static final int GLOBAL_DIM_OFFSET = 48;
    /** uint64 x 4: the stride of each dimension after the first, in bytes. */
    public static final int GLOBAL_STRIDES_OFFSET = 88;
    /** uint32 x 5. */
    public static final int BOX_DIM_OFFSET = 120;
    /** uint32 x 5. */
    public static final int ELEMENT_STRIDES_OFFSET = 140;
    /** int32 x 3: im2col's pixel box corners. */
    public static final int LOWER_CORNER_OFFSET = 160;
    public static final int UPPER_CORNER_OFFSET = 172;
    /** The tensor map whose address cuTensorMapReplaceAddress changes. */
    public static final int TENSOR_MAP_OFFSET = 184;
    public static final int LENGTH = TENSOR_MAP_OFFSET + TENSOR_MAP_BYTES;

    private TensorMapRequest()
    {
    }

    /**
     * @param dataType a CUtensorMapDataType.
     * @return bytes per element, rounded up to a byte for the packed 4- and 6-bit types; 0 when unknown.
     */
    public static int elementBytes(final int dataType)
    {
        return switch (dataType)
        {
            case 0, 13, 14, 15 -> 1;          // UINT8 and the packed 4/6-bit types
            case 1, 6, 9 -> 2;                // UINT16, FLOAT16, BFLOAT16
            case 2, 3, 7, 10, 11, 12 -> 4;    // UINT32, INT32, FLOAT32(_FTZ), TFLOAT32(_FTZ)
            case 4, 5, 8 -> 8;                // UINT64, INT64, FLOAT64
            default -> 0;
        };
    }
}
