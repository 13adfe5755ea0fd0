package dev.bitfusion.server.backend.cuda;

import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.server.backend.TenantMemory;
import dev.bitfusion.server.backend.TensorMapExtent;
import dev.bitfusion.transport.protocol.TensorMapArgumentsDecoder;
import dev.bitfusion.transport.protocol.TensorMapKind;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Tensor maps (Hopper's TMA descriptors) a tenant builds, by the driver through {@link DriverExtras}, only over
 * its own memory: the GPU's TMA units read and write whatever a map reaches without further checks.
 * <p>
 * Thread safety: used by the session's executor only.
 */
final class CudaTensorMaps
{
    private static final int MAX_REMEMBERED_TENSOR_MAPS = 4096;

    private final CudaContext context;
    private final TenantMemory tenant;
    private final long[] globalDim = new long[TensorMapArgumentsDecoder.globalDimLength()];
    private final long[] globalStrides = new long[TensorMapArgumentsDecoder.globalStridesLength()];
    private final int[] boxDim = new int[TensorMapArgumentsDecoder.boxDimLength()];
    private final int[] elementStrides = new int[TensorMapArgumentsDecoder.elementStridesLength()];
    private final int[] lowerCorner = new int[TensorMapArgumentsDecoder.lowerCornerLength()];
    private final int[] upperCorner = new int[TensorMapArgumentsDecoder.upperCornerLength()];
    /** The reach of tensor maps built here, by their bytes, so cuTensorMapReplaceAddress can be checked. */
    private final Map<ByteBuffer, Long> tensorMapExtents = new HashMap<>();

    CudaTensorMaps(final CudaContext context, final TenantMemory tenant)
    {
        this.context = context;
        this.tenant = tenant;
    }

    /**
     * The map is built only when everything it can reach lies in one allocation (or global) of this tenant;
     * an address is replaced only in a map built here, whose reach is then known.
     */
    int encode(
        final TensorMapArgumentsDecoder arguments, final MutableDirectBuffer tensorMap, final CallResult result)
    {
        final int kind = arguments.kindRaw();
        final long address = arguments.globalAddress();
        final long extent;
        if (kind == TensorMapKind.REPLACE_ADDRESS.value())
        {
            arguments.getTensorMap(tensorMap, 0, TensorMapArgumentsDecoder.tensorMapLength());
            final Long known = tensorMapExtents.get(tensorMapKey(tensorMap));
            if (known == null)
            {
                result.message = "cuTensorMapReplaceAddress: the tensor map was not built by this session";
                return CUDA_ERROR_INVALID_VALUE;
            }
            extent = known;
        }
        else
        {
            extent = TensorMapExtent.of(arguments);
            if (extent == TensorMapExtent.INVALID)
            {
                result.message = "the tensor map's rank, element type or sizes are invalid";
                return CUDA_ERROR_INVALID_VALUE;
            }
        }
        if (!tenant.contains(address, extent))
        {
            result.message = "the tensor map reaches past this tenant's allocation at 0x" + Long.toHexString(address);
            return CUDA_ERROR_INVALID_VALUE;
        }
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = encodeInDriver(arguments, tensorMap.addressOffset());
        }
        if (status == CUDA_SUCCESS)
        {
            if (tensorMapExtents.size() >= MAX_REMEMBERED_TENSOR_MAPS)
            {
                tensorMapExtents.clear();
            }
            tensorMapExtents.put(tensorMapKey(tensorMap), extent);
        }
        return status;
    }

    private int encodeInDriver(final TensorMapArgumentsDecoder arguments, final long tensorMap)
    {
        final TensorMapKind kind = arguments.kind();
        if (kind == TensorMapKind.REPLACE_ADDRESS)
        {
            return DriverExtras.replaceTensorMapAddress(tensorMap, arguments.globalAddress());
        }
        for (int i = 0; i < globalDim.length; i++)
        {
            globalDim[i] = arguments.globalDim(i);
            boxDim[i] = (int)arguments.boxDim(i);
            elementStrides[i] = (int)arguments.elementStrides(i);
        }
        for (int i = 0; i < globalStrides.length; i++)
        {
            globalStrides[i] = arguments.globalStrides(i);
        }
        for (int i = 0; i < lowerCorner.length; i++)
        {
            lowerCorner[i] = arguments.lowerCorner(i);
            upperCorner[i] = arguments.upperCorner(i);
        }
        return kind == TensorMapKind.TILED ?
            DriverExtras.encodeTensorMapTiled(tensorMap, arguments.dataType(), arguments.rank(),
                arguments.globalAddress(), globalDim, globalStrides, boxDim, elementStrides, arguments.interleave(),
                arguments.swizzle(), arguments.l2Promotion(), arguments.oobFill()) :
            DriverExtras.encodeTensorMapIm2col(tensorMap, arguments.dataType(), arguments.rank(),
                arguments.globalAddress(), globalDim, globalStrides, lowerCorner, upperCorner,
                (int)arguments.channelsPerPixel(), (int)arguments.pixelsPerColumn(), elementStrides,
                arguments.interleave(), arguments.swizzle(), arguments.l2Promotion(), arguments.oobFill());
    }

    private static ByteBuffer tensorMapKey(final DirectBuffer tensorMap)
    {
        final byte[] bytes = new byte[TensorMapArgumentsDecoder.tensorMapLength()];
        tensorMap.getBytes(0, bytes);
        return ByteBuffer.wrap(bytes);
    }
}
