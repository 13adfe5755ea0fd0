package dev.bitfusion.server.backend.cuda;

import dev.bitfusion.server.backend.CallResult;
import jcuda.driver.CUstream;
import org.agrona.DirectBuffer;

import static dev.bitfusion.cuda.CuResult.*;
import static jcuda.driver.JCudaDriver.*;

/**
 * Kernel launches of a tenant on a real GPU, with or without a thread block cluster shape, and the cluster
 * occupancy queries that size them. Launches go through our JNI library where it loaded ({@link DriverExtras}:
 * plain addresses, and the cluster attribute JCuda lacks), else through JCuda.
 * <p>
 * Thread safety: used by the session's executor only.
 */
final class CudaLaunches
{
    private final CudaContext context;
    private final CudaStreams streams;
    private final CudaModules modules;
    private final int[] intOut = new int[1];

    CudaLaunches(final CudaContext context, final CudaStreams streams, final CudaModules modules)
    {
        this.context = context;
        this.streams = streams;
        this.modules = modules;
    }

    int launch(
        final long functionHandle, final long streamHandle, final int gridX, final int gridY, final int gridZ,
        final int blockX, final int blockY, final int blockZ, final int sharedMemBytes,
        final int clusterX, final int clusterY, final int clusterZ,
        final DirectBuffer parameters, final int parametersOffset, final int parametersLength)
    {
        final CudaModules.Kernel kernel = modules.kernel(functionHandle);
        final CUstream stream = streams.stream(streamHandle);
        if (kernel == null || stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if (parametersLength < kernel.bufferSize)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        parameters.getBytes(parametersOffset, kernel.parameters, 0, kernel.bufferSize);
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            // The driver prints at synchronisations (see synchronize), not here.
            final boolean clustered = clusterX != 0 || clusterY != 0 || clusterZ != 0;
            if (clustered || DriverExtras.isAvailable())
            {
                status = DriverExtras.launch(kernel.function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                    sharedMemBytes, stream, kernel.bufferSize == 0 ? 0 : kernel.nativeKernelParams.addressOffset(),
                    clusterX, clusterY, clusterZ);
            }
            else
            {
                // Without our JNI library (it could not be loaded): JCuda's launch, slower per call.
                status = cuLaunchKernel(kernel.function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes,
                    stream, kernel.kernelParams, null);
            }
        }
        return status;
    }

    int clusterOccupancy(
        final long functionHandle, final int query, final int[] grid, final int[] block, final int sharedMemBytes,
        final int[] cluster, final CallResult result)
    {
        final CudaModules.Kernel kernel = modules.kernel(functionHandle);
        if (kernel == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = DriverExtras.clusterOccupancy(intOut, query, kernel.function, grid, block, sharedMemBytes, cluster);
        }
        if (status == CUDA_SUCCESS)
        {
            result.value1 = intOut[0];
        }
        return status;
    }
}
