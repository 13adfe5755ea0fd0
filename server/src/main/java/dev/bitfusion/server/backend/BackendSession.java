package dev.bitfusion.server.backend;

import dev.bitfusion.transport.protocol.SyncKind;
import dev.bitfusion.transport.protocol.TensorMapArgumentsDecoder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.function.Consumer;

/**
 * One tenant's view of a GPU: its memory, contexts, streams, events and modules, by client-chosen handle.
 * <p>
 * Every method returns a CUresult; out values go into the {@link CallResult} the caller passes. Device
 * addresses are checked against this tenant's own allocations: anything else is CUDA_ERROR_INVALID_VALUE.
 * <p>
 * Thread safety: not thread safe; the session's executor is its only caller, which is what keeps a
 * tenant's calls in order.
 */
public interface BackendSession extends AutoCloseable
{
    /**
     * Receives device-to-host data as it is read, so a copy of any size streams without a second buffer.
     */
    @FunctionalInterface
    interface DeviceDataSink
    {
        /**
         * @param offset     offset of this piece from the start of the copy.
         * @param hostMemory address of the bytes, valid only during the call.
         * @param length     number of bytes.
         * @return false to abandon the copy (the receiver is gone).
         */
        boolean onData(long offset, long hostMemory, int length);
    }

    /**
     * @return the bytes this tenant may hold.
     */
    long sliceBytes();

    /**
     * @return the bytes this tenant holds now.
     */
    long allocatedBytes();

    int memAlloc(long bytes, CallResult result);

    int memFree(long deviceAddress);

    int copyHostToDevice(long streamHandle, long deviceAddress, DirectBuffer source, int offset, int length);

    /**
     * @param maxChunkBytes the largest piece {@code sink} takes at once.
     * @param printfSink    receives what kernels printed that the copy's synchronisation brings out.
     */
    int copyDeviceToHost(
        long streamHandle, long deviceAddress, long bytes, int maxChunkBytes, DeviceDataSink sink,
        Consumer<String> printfSink);

    int copyDeviceToDevice(long streamHandle, long dstDeviceAddress, long srcDeviceAddress, long bytes);

    int memset(long streamHandle, long deviceAddress, int value, int elementSize, long width, long height, long pitch);

    int contextCreate(long contextHandle, int flags);

    int contextDestroy(long contextHandle);

    int streamCreate(long streamHandle, long contextHandle, int flags, int priority);

    int streamDestroy(long streamHandle);

    int streamWaitEvent(long streamHandle, long eventHandle);

    /**
     * @param kind       what to wait for or ask about; {@link SyncKind#NULL_VAL} for a kind the client named that
     *                   the server does not know, which is CUDA_ERROR_INVALID_VALUE.
     * @param handle     the context, stream or event.
     * @param printfSink receives what kernels printed that the synchronisation brings out, before it returns.
     */
    int synchronize(SyncKind kind, long handle, Consumer<String> printfSink);

    int eventCreate(long eventHandle, long contextHandle, int flags);

    int eventRecord(long eventHandle, long streamHandle);

    int eventDestroy(long eventHandle);

    /**
     * Result value1 holds the elapsed milliseconds as float bits.
     */
    int eventElapsedTime(long startEventHandle, long endEventHandle, CallResult result);

    /**
     * Result message holds the reason when the image cannot be loaded.
     */
    int moduleLoad(long moduleHandle, long contextHandle, byte[] image, CallResult result);

    int moduleUnload(long moduleHandle);

    /**
     * @param layout receives the kernel's parameter offsets and sizes.
     */
    int moduleGetFunction(long moduleHandle, long functionHandle, String name, ParameterLayout layout);

    /**
     * Result value1 is the device address, value2 the size.
     */
    int moduleGetGlobal(long moduleHandle, String name, CallResult result);

    /**
     * Result value1 is the attribute's value.
     */
    int functionGetAttribute(long functionHandle, int attribute, CallResult result);

    /**
     * cuFuncSetAttribute: settable attributes change how later launches of the kernel run.
     */
    int functionSetAttribute(long functionHandle, int attribute, int value);

    /**
     * cuCtxGetLimit (set false) or cuCtxSetLimit (set true) on the tenant's context: stack size, printf FIFO,
     * malloc heap and the other CUlimit values. Result value1 is the limit's value once read or set.
     */
    int contextLimit(int limit, boolean set, long value, CallResult result);

    /**
     * cuTensorMapEncodeTiled/Im2col/ReplaceAddress: builds the 128-byte tensor map the arguments describe into
     * {@code tensorMap}, refusing (CUDA_ERROR_INVALID_VALUE) one that could reach memory outside a single
     * allocation of this tenant.
     */
    int tensorMapEncode(TensorMapArgumentsDecoder arguments, MutableDirectBuffer tensorMap, CallResult result);

    /**
     * cuOccupancyMaxActiveClusters (query 0) or cuOccupancyMaxPotentialClusterSize (query 1) for a launch of
     * the function; cluster is x, y, z, zeros when the launch gives none. Result value1 is the answer.
     */
    int clusterOccupancy(long functionHandle, int query, int[] grid, int[] block, int sharedMemBytes, int[] cluster,
        CallResult result);

    /**
     * @param clusterX the thread block cluster shape the launch asks for (CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION),
     *                 with clusterY and clusterZ; 0, 0, 0 when it asks for none.
     */
    int launchKernel(
        long functionHandle, long streamHandle,
        int gridX, int gridY, int gridZ,
        int blockX, int blockY, int blockZ,
        int sharedMemBytes,
        int clusterX, int clusterY, int clusterZ,
        DirectBuffer parameters, int parametersOffset, int parametersLength,
        Consumer<String> printfSink);

    /**
     * Free everything the tenant holds; called when its session ends for any reason.
     */
    void close();
}
