package dev.bitfusion.server.backend;

import dev.bitfusion.transport.protocol.TensorMapArgumentsDecoder;
import dev.bitfusion.transport.protocol.TensorMapKind;

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
     * @param arguments the arguments of cuTensorMapEncodeTiled or cuTensorMapEncodeIm2col.
     * @return the bytes the map can reach from its global address, or {@link #INVALID}.
     */
    public static long of(final TensorMapArgumentsDecoder arguments)
    {
        final int kind = arguments.kindRaw();
        final int rank = arguments.rank();
        final int elementBytes = elementBytes(arguments.dataType());
        final int lowestRank = kind == TensorMapKind.IM2COL.value() ? 3 : 1;
        if (elementBytes == 0 || rank < lowestRank || rank > TensorMapArgumentsDecoder.globalDimLength() ||
            (kind != TensorMapKind.TILED.value() && kind != TensorMapKind.IM2COL.value()))
        {
            return INVALID;
        }
        try
        {
            long last = 0;
            for (int dimension = 0; dimension < rank; dimension++)
            {
                final long size = arguments.globalDim(dimension);
                final long stride = dimension == 0 ? elementBytes : arguments.globalStrides(dimension - 1);
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

    /**
     * @param dataType a CUtensorMapDataType.
     * @return bytes per element, rounded up to a byte for the packed 4- and 6-bit types; 0 when unknown.
     */
    static int elementBytes(final int dataType)
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
