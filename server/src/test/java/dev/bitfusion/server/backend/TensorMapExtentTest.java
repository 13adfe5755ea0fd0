package dev.bitfusion.server.backend;

import dev.bitfusion.transport.TensorMapRequest;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;

import static dev.bitfusion.transport.TensorMapRequest.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

class TensorMapExtentTest
{
    private static final int FLOAT32 = 7;
    private static final int FLOAT16 = 6;

    @Test
    void shouldReachTheLastElementOfARowMajorMatrix()
    {
        // 100 rows of 64 floats, rows 512 bytes apart (padded): the last float starts at 99 * 512 + 63 * 4.
        final UnsafeBuffer request = request(KIND_TILED, FLOAT32, new long[]{ 64, 100 }, new long[]{ 512 });

        assertEquals(99 * 512 + 63 * 4 + 4, TensorMapExtent.of(request, 0));
    }

    @Test
    void shouldFollowEveryDimensionsStride()
    {
        final UnsafeBuffer request = request(KIND_TILED, FLOAT16, new long[]{ 8, 3, 2 }, new long[]{ 16, 64 });

        assertEquals(7 * 2 + 2 * 16 + 64 + 2, TensorMapExtent.of(request, 0));
    }

    @Test
    void shouldRefuseShapesThatCannotBeChecked()
    {
        assertEquals(TensorMapExtent.INVALID, TensorMapExtent.of(request(KIND_TILED, 99, new long[]{ 8 }, new long[0]), 0),
            "an unknown element type");
        assertEquals(TensorMapExtent.INVALID, TensorMapExtent.of(request(KIND_TILED, FLOAT32, new long[]{ 0 }, new long[0]), 0),
            "an empty dimension");
        assertEquals(TensorMapExtent.INVALID, TensorMapExtent.of(
            request(KIND_TILED, FLOAT32, new long[]{ 2, Long.MAX_VALUE / 2 }, new long[]{ 1L << 40 }), 0), "an overflow");
        assertEquals(TensorMapExtent.INVALID, TensorMapExtent.of(
            request(KIND_IM2COL, FLOAT32, new long[]{ 8, 8 }, new long[]{ 32 }), 0), "im2col below rank 3");
        assertEquals(TensorMapExtent.INVALID, TensorMapExtent.of(
            request(KIND_TILED, FLOAT32, new long[]{ 1, 1, 1, 1, 1, 1 }, new long[]{ 4, 4, 4, 4, 4 }), 0), "rank 6");
    }

    private static UnsafeBuffer request(final int kind, final int dataType, final long[] dims, final long[] strides)
    {
        final UnsafeBuffer request = new UnsafeBuffer(new byte[TensorMapRequest.LENGTH + 8 * 6]);
        request.putInt(KIND_OFFSET, kind, ByteOrder.LITTLE_ENDIAN);
        request.putInt(DATA_TYPE_OFFSET, dataType, ByteOrder.LITTLE_ENDIAN);
        request.putInt(RANK_OFFSET, dims.length, ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < Math.min(dims.length, MAX_RANK); i++)
        {
            request.putLong(GLOBAL_DIM_OFFSET + 8 * i, dims[i], ByteOrder.LITTLE_ENDIAN);
        }
        for (int i = 0; i < Math.min(strides.length, MAX_RANK - 1); i++)
        {
            request.putLong(GLOBAL_STRIDES_OFFSET + 8 * i, strides[i], ByteOrder.LITTLE_ENDIAN);
        }
        return request;
    }
}
