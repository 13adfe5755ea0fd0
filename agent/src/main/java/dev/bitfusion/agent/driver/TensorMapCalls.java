package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.CallSlot;
import dev.bitfusion.agent.wire.ServerSession;
import dev.bitfusion.transport.protocol.TensorMapArgumentsEncoder;
import dev.bitfusion.transport.protocol.TensorMapKind;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Tensor maps (Hopper's TMA descriptors): their format is private to the GPU's driver, so the driver on the
 * server builds them, once the server has checked that every byte a map can reach lies in one allocation of
 * this tenant, and the 128 bytes come back into the program's CUtensorMap. Ranks and the arrays they size
 * are checked here, the rest there.
 * <p>
 * Thread safety: thread safe.
 */
public final class TensorMapCalls
{
    private static final int MAX_RANK = 5;
    private static final int MIN_IM2COL_RANK = 3;

    private final ContextState contexts;
    private final Sessions sessions;
    private final Diagnostics diagnostics;

    TensorMapCalls(final Sessions sessions, final ContextState contexts, final Diagnostics diagnostics)
    {
        this.sessions = sessions;
        this.contexts = contexts;
        this.diagnostics = diagnostics;
    }

    public int cuTensorMapEncodeTiled(
        final long tensorMap, final int tensorDataType, final int tensorRank, final long globalAddress,
        final long globalDim, final long globalStrides, final long boxDim, final long elementStrides,
        final int interleave, final int swizzle, final int l2Promotion, final int oobFill)
    {
        if (tensorMap == 0 || globalDim == 0 || boxDim == 0 || elementStrides == 0 || tensorRank <= 0 ||
            tensorRank > MAX_RANK || (tensorRank > 1 && globalStrides == 0))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final ServerSession session = contexts.currentSession();
        if (session == null)
        {
            return notCurrent();
        }
        final TensorMapArgumentsEncoder arguments = request(session, tensorMap);
        common(arguments, TensorMapKind.TILED, tensorDataType, tensorRank, globalAddress, globalDim, globalStrides,
            elementStrides, interleave, swizzle, l2Promotion, oobFill);
        for (int i = 0; i < tensorRank; i++)
        {
            arguments.boxDim(i, unsignedIntAt(boxDim, i));
        }
        return exchange(session);
    }

    public int cuTensorMapEncodeIm2col(
        final long tensorMap, final int tensorDataType, final int tensorRank, final long globalAddress,
        final long globalDim, final long globalStrides, final long pixelBoxLowerCorner, final long pixelBoxUpperCorner,
        final int channelsPerPixel, final int pixelsPerColumn, final long elementStrides,
        final int interleave, final int swizzle, final int l2Promotion, final int oobFill)
    {
        if (tensorMap == 0 || globalDim == 0 || globalStrides == 0 || pixelBoxLowerCorner == 0 ||
            pixelBoxUpperCorner == 0 || elementStrides == 0 || tensorRank < MIN_IM2COL_RANK || tensorRank > MAX_RANK)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final ServerSession session = contexts.currentSession();
        if (session == null)
        {
            return notCurrent();
        }
        final TensorMapArgumentsEncoder arguments = request(session, tensorMap);
        common(arguments, TensorMapKind.IM2COL, tensorDataType, tensorRank, globalAddress, globalDim, globalStrides,
            elementStrides, interleave, swizzle, l2Promotion, oobFill);
        arguments.channelsPerPixel(channelsPerPixel & 0xFFFF_FFFFL).pixelsPerColumn(pixelsPerColumn & 0xFFFF_FFFFL);
        for (int i = 0; i < tensorRank - 2; i++)
        {
            arguments.lowerCorner(i, NativeMemory.getInt(pixelBoxLowerCorner + (long)Integer.BYTES * i));
            arguments.upperCorner(i, NativeMemory.getInt(pixelBoxUpperCorner + (long)Integer.BYTES * i));
        }
        return exchange(session);
    }

    /**
     * The map is rebuilt on the server with its new address, checked like a new one.
     */
    public int cuTensorMapReplaceAddress(final long tensorMap, final long globalAddress)
    {
        if (tensorMap == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final ServerSession session = contexts.currentSession();
        if (session == null)
        {
            return notCurrent();
        }
        final TensorMapArgumentsEncoder arguments = request(session, tensorMap)
            .kind(TensorMapKind.REPLACE_ADDRESS)
            .globalAddress(globalAddress);
        arguments.putTensorMap(new UnsafeBuffer(tensorMap, TensorMapArgumentsEncoder.tensorMapLength()), 0,
            TensorMapArgumentsEncoder.tensorMapLength());
        return exchange(session);
    }

    private static void common(
        final TensorMapArgumentsEncoder arguments, final TensorMapKind kind, final int dataType, final int rank,
        final long globalAddress, final long globalDim, final long globalStrides, final long elementStrides,
        final int interleave, final int swizzle, final int l2Promotion, final int oobFill)
    {
        arguments.kind(kind).dataType(dataType).rank(rank).interleave(interleave).swizzle(swizzle)
            .l2Promotion(l2Promotion).oobFill(oobFill).globalAddress(globalAddress);
        for (int i = 0; i < rank; i++)
        {
            arguments.globalDim(i, NativeMemory.getLong(globalDim + (long)Long.BYTES * i));
            arguments.elementStrides(i, unsignedIntAt(elementStrides, i));
        }
        for (int i = 0; i < rank - 1; i++)
        {
            arguments.globalStrides(i, NativeMemory.getLong(globalStrides + (long)Long.BYTES * i));
        }
    }

    /**
     * Encode a request in the calling thread's slot, the map to land at {@code tensorMap}.
     *
     * @return its arguments, zeroed, to fill in.
     */
    private static TensorMapArgumentsEncoder request(final ServerSession session, final long tensorMap)
    {
        final CallSlot slot = session.slot();
        slot.copyInto(tensorMap, TensorMapArgumentsEncoder.tensorMapLength());
        return session.proxy().tensorMapEncode(slot);
    }

    /**
     * Send the request {@link #request} encoded and wait for the map.
     */
    private int exchange(final ServerSession session)
    {
        final CallSlot slot = session.slot();
        final int status = session.await(slot, session.proxy().sendTensorMapEncode(slot));
        if (status != CUDA_SUCCESS)
        {
            if (slot.message() != null)
            {
                diagnostics.failed(slot.message());
            }
            return status;
        }
        return slot.copyReceivedBytes() == TensorMapArgumentsEncoder.tensorMapLength() ? CUDA_SUCCESS : CUDA_ERROR_UNKNOWN;
    }

    private int notCurrent()
    {
        return sessions.isInitialised() ? CUDA_ERROR_INVALID_CONTEXT : CUDA_ERROR_NOT_INITIALIZED;
    }

    private static long unsignedIntAt(final long array, final int index)
    {
        return NativeMemory.getInt(array + (long)Integer.BYTES * index) & 0xFFFF_FFFFL;
    }
}
