package dev.bitfusion.server.backend.cuda;

import dev.bitfusion.server.backend.SliceBudget;
import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.server.backend.ParameterLayout;
import dev.bitfusion.server.backend.TenantMemory;
import dev.bitfusion.transport.protocol.SyncKind;
import dev.bitfusion.transport.protocol.TensorMapArgumentsDecoder;
import jcuda.driver.CUdevice;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.function.Consumer;

import static dev.bitfusion.cuda.CuResult.CUDA_SUCCESS;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;

/**
 * One tenant on a real GPU: its own CUDA context ({@link CudaContext}), with its client's handles mapped onto
 * the driver's streams and events ({@link CudaStreams}), modules and kernels ({@link CudaModules}), its memory
 * checked against its slice and its own ranges ({@link CudaMemory}), its launches ({@link CudaLaunches}) and
 * tensor maps ({@link CudaTensorMaps}).
 * <p>
 * Device printf is this class's own concern: the driver writes it out when the host synchronises, so a tenant
 * whose modules call printf synchronises (and copies device-to-host, which synchronises) through
 * {@link DevicePrintf}, which hands it what its kernels printed.
 * <p>
 * Thread safety: used by the session's executor only.
 */
final class CudaSession implements BackendSession
{
    private final CudaContext context;
    private final CudaStreams streams;
    private final CudaMemory memory;
    private final CudaModules modules;
    private final CudaLaunches launches;
    private final CudaTensorMaps tensorMaps;
    private final TenantMemory tenant;

    /**
     * @throws CudaUnavailableException when the driver will not create the context.
     */
    CudaSession(final CUdevice device, final SliceBudget budget)
    {
        context = new CudaContext(device);
        tenant = new TenantMemory(budget);
        streams = new CudaStreams(context);
        memory = new CudaMemory(context, streams, tenant);
        modules = new CudaModules(context, streams, tenant);
        launches = new CudaLaunches(context, streams, modules);
        tensorMaps = new CudaTensorMaps(context, tenant);
    }

    public long sliceBytes()
    {
        return tenant.sliceBytes();
    }

    public long allocatedBytes()
    {
        return tenant.allocatedBytes();
    }

    public int memAlloc(final long bytes, final CallResult result)
    {
        return memory.memAlloc(bytes, result);
    }

    public int memFree(final long deviceAddress)
    {
        return memory.memFree(deviceAddress);
    }

    public int copyHostToDevice(
        final long streamHandle, final long deviceAddress, final DirectBuffer source, final int offset, final int length)
    {
        return memory.copyHostToDevice(streamHandle, deviceAddress, source, offset, length);
    }

    /**
     * The copy synchronises with the GPU, which brings device printf out: a session whose modules call
     * printf copies through {@link DevicePrintf}.
     */
    public int copyDeviceToHost(
        final long streamHandle,
        final long deviceAddress,
        final long bytes,
        final int maxChunkBytes,
        final DeviceDataSink sink,
        final Consumer<String> printfSink)
    {
        final DevicePrintf devicePrintf = modules.usesPrintf() ? DevicePrintf.get() : null;
        return devicePrintf == null ?
            memory.copyDeviceToHost(streamHandle, deviceAddress, bytes, maxChunkBytes, sink) :
            devicePrintf.synchronize(
                () -> memory.copyDeviceToHost(streamHandle, deviceAddress, bytes, maxChunkBytes, sink), printfSink);
    }

    public int copyDeviceToDevice(
        final long streamHandle, final long dstDeviceAddress, final long srcDeviceAddress, final long bytes)
    {
        return memory.copyDeviceToDevice(streamHandle, dstDeviceAddress, srcDeviceAddress, bytes);
    }

    public int memset(
        final long streamHandle,
        final long deviceAddress,
        final int value,
        final int elementSize,
        final long width,
        final long height,
        final long pitch)
    {
        return memory.memset(streamHandle, deviceAddress, value, elementSize, width, height, pitch);
    }

    public int contextCreate(final long contextHandle, final int flags)
    {
        return streams.contextCreate(contextHandle, flags);
    }

    public int contextDestroy(final long contextHandle)
    {
        return streams.contextDestroy(contextHandle);
    }

    public int streamCreate(final long streamHandle, final long contextHandle, final int flags, final int priority)
    {
        return streams.streamCreate(streamHandle, contextHandle, flags, priority);
    }

    public int streamDestroy(final long streamHandle)
    {
        return streams.streamDestroy(streamHandle);
    }

    public int streamWaitEvent(final long streamHandle, final long eventHandle)
    {
        return streams.streamWaitEvent(streamHandle, eventHandle);
    }

    /**
     * A session whose modules call printf synchronises through {@link DevicePrintf}, which gives it what its
     * kernels printed; any other synchronises directly, as does a query, which waits for nothing.
     */
    public int synchronize(final SyncKind kind, final long handle, final Consumer<String> printfSink)
    {
        final boolean blocking = kind != SyncKind.STREAM_QUERY && kind != SyncKind.EVENT_QUERY;
        final DevicePrintf devicePrintf = modules.usesPrintf() && blocking ? DevicePrintf.get() : null;
        return devicePrintf == null ? streams.synchronize(kind, handle) :
            devicePrintf.synchronize(() -> streams.synchronize(kind, handle), printfSink);
    }

    public int eventCreate(final long eventHandle, final long contextHandle, final int flags)
    {
        return streams.eventCreate(eventHandle, contextHandle, flags);
    }

    public int eventRecord(final long eventHandle, final long streamHandle)
    {
        return streams.eventRecord(eventHandle, streamHandle);
    }

    public int eventDestroy(final long eventHandle)
    {
        return streams.eventDestroy(eventHandle);
    }

    public int eventElapsedTime(final long startEventHandle, final long endEventHandle, final CallResult result)
    {
        return streams.eventElapsedTime(startEventHandle, endEventHandle, result);
    }

    public int moduleLoad(final long moduleHandle, final long contextHandle, final byte[] image, final CallResult result)
    {
        return modules.moduleLoad(moduleHandle, contextHandle, image, result);
    }

    public int moduleUnload(final long moduleHandle)
    {
        return modules.moduleUnload(moduleHandle);
    }

    public int moduleGetFunction(
        final long moduleHandle, final long functionHandle, final String name, final ParameterLayout layout)
    {
        return modules.moduleGetFunction(moduleHandle, functionHandle, name, layout);
    }

    public int moduleGetGlobal(final long moduleHandle, final String name, final CallResult result)
    {
        return modules.moduleGetGlobal(moduleHandle, name, result);
    }

    public int functionGetAttribute(final long functionHandle, final int attribute, final CallResult result)
    {
        return modules.functionGetAttribute(functionHandle, attribute, result);
    }

    public int functionSetAttribute(final long functionHandle, final int attribute, final int value)
    {
        return modules.functionSetAttribute(functionHandle, attribute, value);
    }

    public int contextLimit(final int limit, final boolean set, final long value, final CallResult result)
    {
        return context.limit(limit, set, value, result);
    }

    public int tensorMapEncode(
        final TensorMapArgumentsDecoder arguments, final MutableDirectBuffer tensorMap, final CallResult result)
    {
        return tensorMaps.encode(arguments, tensorMap, result);
    }

    public int clusterOccupancy(
        final long functionHandle, final int query, final int[] grid, final int[] block, final int sharedMemBytes,
        final int[] cluster, final CallResult result)
    {
        return launches.clusterOccupancy(functionHandle, query, grid, block, sharedMemBytes, cluster, result);
    }

    /**
     * The driver prints at synchronisations (see {@link #synchronize}), not here: printfSink is not used.
     */
    public int launchKernel(
        final long functionHandle,
        final long streamHandle,
        final int gridX, final int gridY, final int gridZ,
        final int blockX, final int blockY, final int blockZ,
        final int sharedMemBytes,
        final int clusterX, final int clusterY, final int clusterZ,
        final DirectBuffer parameters, final int parametersOffset, final int parametersLength,
        final Consumer<String> printfSink)
    {
        return launches.launch(functionHandle, streamHandle, gridX, gridY, gridZ, blockX, blockY, blockZ,
            sharedMemBytes, clusterX, clusterY, clusterZ, parameters, parametersOffset, parametersLength);
    }

    /**
     * Wait for the tenant's work, then free everything it holds, in the driver too when its context can be
     * made current, and destroy the context.
     */
    public void close()
    {
        final boolean contextCurrent = context.enter() == CUDA_SUCCESS;
        if (contextCurrent)
        {
            cuCtxSynchronize();
        }
        streams.close(contextCurrent);
        modules.close(contextCurrent);
        memory.close(contextCurrent);
        context.destroy();
    }
}
