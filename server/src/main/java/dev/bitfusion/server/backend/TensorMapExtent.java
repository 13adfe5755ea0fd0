package dev.bitfusion.server.backend;

import dev.bitfusion.transport.TensorMapRequest;
import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

import static dev.bitfusion.transport.TensorMapRequest.*;

/**
 * How many bytes from its global address a tensor map can reach: the last element of the last row of every
 * dimension, by the strides the request gives. The server lets a tenant build a map only when that whole
 * range is its own memory, since the GPU's TMA units will then read and write it without further checks.
 * <p>
 * Thread safety: stateless.
 */
public final class TensorMapExtent
{
    /** Returned for a request whose shape is invalid (bad rank, element type, zero or overflowing sizes). */
    public static final long INVALID = -1;

    private TensorMapExtent()
    {
    }

    /**
     * @param request a TensorMapRequest of kind tiled or im2col at {@code offset}.
     * @return the bytes the map can reach from its global address, or {@link #INVALID}.
     */
    public static long of(final DirectBuffer request, final int offset)
    {
        final int kind = request.getInt(offset + KIND_OFFSET, ByteOrder.LITTLE_ENDIAN);
        final int rank = request.getInt(offset + RANK_OFFSET, ByteOrder.LITTLE_ENDIAN);
        final int elementBytes = TensorMapRequest.elementBytes(request.getInt(offset + DATA_TYPE_OFFSET, ByteOrder.LITTLE_ENDIAN));
        final int lowestRank = kind == KIND_IM2COL ? 3 : 1;
        if (elementBytes == 0 || rank < lowestRank || rank > MAX_RANK || (kind != KIND_TILED && kind != KIND_IM2COL))
        {
            return INVALID;
        }
        try
        {
            long last = 0;
            for (int dimension = 0; dimension < rank; dimension++)
            {
                final long size = request.getLong(offset + GLOBAL_DIM_OFFSET + 8 * dimension, ByteOrder.LITTLE_ENDIAN);
                final long stride = dimension == 0 ? elementBytes :
                    request.getLong(offset + GLOBAL_STRIDES_OFFSET + 8 * (dimension - 1), ByteOrder.LITTLE_ENDIAN);
                if (size <= 0 || stride <= 0)
                {
                    return INVALID;
                }
                last = Math.addExact(last, Math.multiplyExact(size - 1, stride));
            }
            return Math.addExact(last, elementBytes);
        }
        catch (final ArithmeticException ex)
        {
            return INVALID;
        }
    }
}
