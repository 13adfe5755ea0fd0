package dev.bitfusion.server.backend;

import dev.bitfusion.transport.protocol.TensorMapArgumentsDecoder;
import dev.bitfusion.transport.protocol.TensorMapArgumentsEncoder;
import dev.bitfusion.transport.protocol.TensorMapKind;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static dev.bitfusion.transport.protocol.TensorMapKind.IM2COL;
import static dev.bitfusion.transport.protocol.TensorMapKind.TILED;
import static org.junit.jupiter.api.Assertions.assertEquals;

class TensorMapExtentTest
{
    private static final int FLOAT32 = 7;
    private static final int FLOAT16 = 6;

    @Test
    void shouldReachTheLastElementOfARowMajorMatrix()
    {
        // 100 rows of 64 floats, rows 512 bytes apart (padded): the last float starts at 99 * 512 + 63 * 4.
        assertEquals(99 * 512 + 63 * 4 + 4, TensorMapExtent.of(arguments(TILED, FLOAT32, 2, new long[]{ 64, 100 },
            new long[]{ 512 })));
    }

    @Test
    void shouldFollowEveryDimensionsStride()
    {
        assertEquals(7 * 2 + 2 * 16 + 64 + 2, TensorMapExtent.of(arguments(TILED, FLOAT16, 3, new long[]{ 8, 3, 2 },
            new long[]{ 16, 64 })));
    }

    @Test
    void shouldRefuseShapesThatCannotBeChecked()
    {
        assertEquals(TensorMapExtent.INVALID, TensorMapExtent.of(arguments(TILED, 99, 1, new long[]{ 8 }, new long[0])),
            "an unknown element type");
        assertEquals(TensorMapExtent.INVALID, TensorMapExtent.of(arguments(TILED, FLOAT32, 1, new long[]{ 0 }, new long[0])),
            "an empty dimension");
        assertEquals(TensorMapExtent.INVALID, TensorMapExtent.of(
            arguments(TILED, FLOAT32, 2, new long[]{ 2, Long.MAX_VALUE / 2 }, new long[]{ 1L << 40 })), "an overflow");
        assertEquals(TensorMapExtent.INVALID, TensorMapExtent.of(
            arguments(IM2COL, FLOAT32, 2, new long[]{ 8, 8 }, new long[]{ 32 })), "im2col below rank 3");
        assertEquals(TensorMapExtent.INVALID, TensorMapExtent.of(
            arguments(TILED, FLOAT32, 6, new long[]{ 1, 1, 1, 1, 1 }, new long[]{ 4, 4, 4, 4 })), "rank 6");
        assertEquals(TensorMapExtent.INVALID, TensorMapExtent.of(
            arguments(TensorMapKind.REPLACE_ADDRESS, FLOAT32, 1, new long[]{ 8 }, new long[0])), "a replacement");
    }

    private static TensorMapArgumentsDecoder arguments(
        final TensorMapKind kind, final int dataType, final int rank, final long[] dims, final long[] strides)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[TensorMapArgumentsEncoder.ENCODED_LENGTH]);
        final TensorMapArgumentsEncoder encoder = new TensorMapArgumentsEncoder().wrap(buffer, 0)
            .kind(kind).dataType(dataType).rank(rank);
        for (int i = 0; i < dims.length; i++)
        {
            encoder.globalDim(i, dims[i]);
        }
        for (int i = 0; i < strides.length; i++)
        {
            encoder.globalStrides(i, strides[i]);
        }
        return new TensorMapArgumentsDecoder().wrap(buffer, 0);
    }
}
