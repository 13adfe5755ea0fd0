package dev.bitfusion.agent;

import dev.bitfusion.transport.CuResult;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.protocol.*;
import org.agrona.DirectBuffer;
import org.agrona.UnsafeApi;

import java.io.PrintStream;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

import static dev.bitfusion.transport.CuResult.*;

/**
 * The CUDA driver API, executed on remote GPU slices. Method names, arguments and return values follow
 * the driver API (out parameters are one-element arrays), so the native interposer can forward to it
 * one to one, and Java programs can use it directly.
 * <p>
 * Calls whose effect the program cannot observe at once (launches, memsets, host-to-device copies, frees,
 * event records, stream and event creation) are sent without waiting; a failure on the server is returned
 * by the next synchronizing call, and faults that corrupt a context (illegal address, trap) stick, as on
 * real GPUs. Streams, events, modules, functions and contexts get handles chosen here, with the device in
 * the top bits, so no call needs a round trip to create one.
 * <p>
 * Thread safety: thread safe; each thread has its own context stack, as CUDA specifies.
 */
public final class RemoteDriver implements AutoCloseable
{
    /** The CUDA version this driver implements, as cuDriverGetVersion reports it. */
    public static final int DRIVER_VERSION = 13000;

    /** Flag of cuEventCreate that turns timing off. */
    public static final int CU_EVENT_DISABLE_TIMING = 0x2;

    private static final int DEVICE_SHIFT = 48;
    private static final long SEQUENCE_MASK = (1L << DEVICE_SHIFT) - 1;
    private static final long FIRST_HANDLE = 0x1000;
    private static final long PRIMARY_CONTEXT_TAG = 0xC0L << 40;
    private static final long CU_STREAM_LEGACY = 0x1;
    private static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    private static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    private static final long CU_STREAM_PER_THREAD = 0x2;
    private static final long MAX_COPY_PIECE = 1L << 30;
    /** Pieces in which a copy between two GPUs passes through this process. */
    private static final int PEER_COPY_PIECE = 4 << 20;
    private static final int VAR_LENGTH_BYTES = 4;
    private static final int HTOD_HEAD_LENGTH =
        MessageHeaderEncoder.ENCODED_LENGTH + MemcpyHtoDChunkEncoder.BLOCK_LENGTH + VAR_LENGTH_BYTES;
    private static final int IMAGE_HEAD_LENGTH =
        MessageHeaderEncoder.ENCODED_LENGTH + ModuleImageChunkEncoder.BLOCK_LENGTH + VAR_LENGTH_BYTES;

    private final ClientSettings settings;
    private final PrintStream deviceOutput;
    private final AtomicReferenceArray<ServerConnection> connections;
    private final AtomicReferenceArray<KernelLayout[]> kernelLayouts;
    private final AtomicInteger[] primaryContextRefs;
    private final AtomicLong nextHandle = new AtomicLong(FIRST_HANDLE);
    private final AtomicInteger nextFunctionIndex = new AtomicInteger();
    private final Map<Long, Integer> createdContextDevices = new ConcurrentHashMap<>();
    private final Map<Long, ModuleImage> moduleImages = new ConcurrentHashMap<>();
    private final Map<Long, ModuleImage> unshippedLibraries = new ConcurrentHashMap<>();
    private final Map<Long, Integer> unloadableLibraries = new ConcurrentHashMap<>();
    private volatile HostMappings hostMappings;
    /** A module's copies on the other GPUs, by the module's handle; index = device, 0 where none. */
    private final Map<Long, long[]> modulesOnOtherDevices = new ConcurrentHashMap<>();
    /** A function's lookups on the other GPUs, by the function's handle; index = device, 0 where none. */
    private final Map<Long, long[]> functionsOnOtherDevices = new ConcurrentHashMap<>();
    /** What each stream was created with, for the stream queries (answered here, without a round trip). */
    private final Map<Long, StreamInfo> streamInfos = new ConcurrentHashMap<>();
    /** Attributes set on a function (cuFuncSetAttribute), given to its lookups on other GPUs too. */
    private final Map<Long, Map<Integer, Integer>> functionAttributes = new ConcurrentHashMap<>();
    private final Map<Long, FunctionName> functionNames = new ConcurrentHashMap<>();
    private final ThreadLocal<ContextStack> contextStacks = ThreadLocal.withInitial(ContextStack::new);
    private volatile boolean initialised;
    private volatile String lastError;

    /**
     * @param settings     which servers, how many GPUs, what slice.
     * @param deviceOutput where device printf output goes.
     */
    public RemoteDriver(final ClientSettings settings, final PrintStream deviceOutput)
    {
        this.settings = settings.conclude();
        this.deviceOutput = deviceOutput;
        connections = new AtomicReferenceArray<>(settings.gpuCount());
        kernelLayouts = new AtomicReferenceArray<>(settings.gpuCount());
        primaryContextRefs = new AtomicInteger[settings.gpuCount()];
        for (int i = 0; i < settings.gpuCount(); i++)
        {
            kernelLayouts.set(i, new KernelLayout[0]);
            primaryContextRefs[i] = new AtomicInteger();
        }
    }

    /**
     * @return why the last call that failed for a reason beyond its CUresult failed (refusals, load errors).
     */
    public String lastError()
    {
        return lastError;
    }

    /**
     * @param device a device ordinal.
     * @return the session behind it, for tools and tests (session id, transport).
     */
    public ServerConnection connection(final int device)
    {
        return connections.get(device);
    }

    // ---------------------------------------------------------------- initialisation and devices

    /**
     * Open one session per requested GPU: the slices are reserved from here on.
     */
    public synchronized int cuInit(final int flags)
    {
        if (flags != 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (initialised)
        {
            return CUDA_SUCCESS;
        }
        final Endpoint server = settings.servers().get(0);
        for (int device = 0; device < settings.gpuCount(); device++)
        {
            try
            {
                connections.set(device, ServerConnection.open(server, device, settings, deviceOutput));
            }
            catch (final RuntimeException ex)
            {
                lastError = ex.getMessage();
                for (int opened = 0; opened < device; opened++)
                {
                    connections.get(opened).close();
                    connections.set(opened, null);
                }
                return CUDA_ERROR_NO_DEVICE;
            }
        }
        initialised = true;
        return CUDA_SUCCESS;
    }

    public int cuDriverGetVersion(final int[] version)
    {
        version[0] = DRIVER_VERSION;
        return CUDA_SUCCESS;
    }

    public int cuDeviceGetCount(final int[] count)
    {
        if (!initialised)
        {
            return CUDA_ERROR_NOT_INITIALIZED;
        }
        count[0] = connections.length();
        return CUDA_SUCCESS;
    }

    public int cuDeviceGet(final int[] device, final int ordinal)
    {
        if (!initialised)
        {
            return CUDA_ERROR_NOT_INITIALIZED;
        }
        if (ordinal < 0 || ordinal >= connections.length())
        {
            return CUDA_ERROR_INVALID_DEVICE;
        }
        device[0] = ordinal;
        return CUDA_SUCCESS;
    }

    public int cuDeviceGetName(final String[] name, final int device)
    {
        final int status = checkDevice(device);
        if (status == CUDA_SUCCESS)
        {
            name[0] = connections.get(device).device().name();
        }
        return status;
    }

    public int cuDeviceTotalMem(final long[] bytes, final int device)
    {
        final int status = checkDevice(device);
        if (status == CUDA_SUCCESS)
        {
            bytes[0] = connections.get(device).device().totalBytes();
        }
        return status;
    }

    public int cuDeviceGetAttribute(final int[] value, final int attribute, final int device)
    {
        final int status = checkDevice(device);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        final int found = connections.get(device).device().attribute(attribute);
        if (found == Integer.MIN_VALUE)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        value[0] = found;
        return CUDA_SUCCESS;
    }

    public int cuDeviceGetUuid(final byte[] uuid, final int device)
    {
        final int status = checkDevice(device);
        if (status == CUDA_SUCCESS)
        {
            System.arraycopy(connections.get(device).device().uuid(), 0, uuid, 0, 16);
        }
        return status;
    }

    public int cuDeviceComputeCapability(final int[] major, final int[] minor, final int device)
    {
        final int status = checkDevice(device);
        if (status == CUDA_SUCCESS)
        {
            major[0] = connections.get(device).device().computeCapabilityMajor();
            minor[0] = connections.get(device).device().computeCapabilityMinor();
        }
        return status;
    }

    // ---------------------------------------------------------------- contexts

    public int cuDevicePrimaryCtxRetain(final long[] context, final int device)
    {
        final int status = checkDevice(device);
        if (status == CUDA_SUCCESS)
        {
            primaryContextRefs[device].incrementAndGet();
            context[0] = primaryContext(device);
        }
        return status;
    }

    public int cuDevicePrimaryCtxRelease(final int device)
    {
        final int status = checkDevice(device);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        return primaryContextRefs[device].getAndUpdate(refs -> Math.max(0, refs - 1)) > 0 ?
            CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
    }

    /**
     * Destroy the primary context's state: the session is closed (the server frees all its memory,
     * modules, streams and events) and a fresh one opened on an equal slice.
     */
    public synchronized int cuDevicePrimaryCtxReset(final int device)
    {
        final int status = checkDevice(device);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        final ServerConnection old = connections.get(device);
        old.close();
        try
        {
            connections.set(device, ServerConnection.open(old.endpoint(), device, settings, deviceOutput));
        }
        catch (final RuntimeException ex)
        {
            lastError = ex.getMessage();
            return CUDA_ERROR_DEVICE_UNAVAILABLE;
        }
        kernelLayouts.set(device, new KernelLayout[0]);
        return reloadModules(device);
    }

    /**
     * CUDA 12+ runtimes load kernels as libraries, which outlive a context reset and keep their handles;
     * libraries are modules here, so after a reset every module and function of the device is loaded
     * again into the fresh session under the handles the program already holds.
     */
    private int reloadModules(final int device)
    {
        final ServerConnection connection = connections.get(device);
        for (final Map.Entry<Long, ModuleImage> module : moduleImages.entrySet())
        {
            if (deviceOfHandle(module.getKey()) == device)
            {
                final int status = loadModule(connection, module.getKey(), module.getValue().bytes(), 0);
                if (status != CUDA_SUCCESS)
                {
                    return status;
                }
            }
        }
        for (final Map.Entry<Long, FunctionName> function : functionNames.entrySet())
        {
            if (deviceOfHandle(function.getKey()) == device)
            {
                final int index = (int)((function.getKey() & SEQUENCE_MASK) - FIRST_HANDLE);
                final int status = lookUpFunction(connection, device, function.getValue().module(), index,
                    function.getValue().name());
                if (status != CUDA_SUCCESS)
                {
                    return status;
                }
            }
        }
        return CUDA_SUCCESS;
    }

    /** What a function handle was looked up as, to look it up again after a reset. */
    private record FunctionName(long module, String name)
    {
    }

    public int cuCtxCreate(final long[] context, final int flags, final int device)
    {
        final int status = checkDevice(device);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        final long handle = newHandle(device);
        final ThreadRequestState state = connections.get(device).requestState();
        state.contextCreate.wrapAndApplyHeader(state.buffer, 0, state.header).contextHandle(handle).flags(flags);
        final int sent = connections.get(device).send(state.buffer, length(state.contextCreate.encodedLength()));
        if (sent == CUDA_SUCCESS)
        {
            createdContextDevices.put(handle, device);
            contextStacks.get().push(handle);
            context[0] = handle;
        }
        return sent;
    }

    public int cuCtxDestroy(final long context)
    {
        final Integer device = createdContextDevices.remove(context);
        if (device == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        contextStacks.get().forget(context);
        final ServerConnection connection = connections.get(device);
        final ThreadRequestState state = connection.requestState();
        state.contextDestroy.wrapAndApplyHeader(state.buffer, 0, state.header).contextHandle(context);
        return connection.send(state.buffer, length(state.contextDestroy.encodedLength()));
    }

    public int cuCtxSetCurrent(final long context)
    {
        if (context != 0 && deviceOfContext(context) < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        contextStacks.get().setCurrent(context);
        return CUDA_SUCCESS;
    }

    public int cuCtxGetCurrent(final long[] context)
    {
        context[0] = contextStacks.get().current();
        return CUDA_SUCCESS;
    }

    public int cuCtxPushCurrent(final long context)
    {
        if (deviceOfContext(context) < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        contextStacks.get().push(context);
        return CUDA_SUCCESS;
    }

    public int cuCtxPopCurrent(final long[] context)
    {
        final long popped = contextStacks.get().pop();
        if (popped == 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        if (context != null)
        {
            context[0] = popped;
        }
        return CUDA_SUCCESS;
    }

    public int cuCtxGetDevice(final int[] device)
    {
        final int current = currentDevice();
        if (current < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        device[0] = current;
        return CUDA_SUCCESS;
    }

    public int cuCtxSynchronize()
    {
        final long context = contextStacks.get().current();
        final int device = deviceOfContext(context);
        if (device < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        return synchronize(connections.get(device), SyncKind.CONTEXT_SYNCHRONIZE, wireContext(context));
    }

    // ---------------------------------------------------------------- memory

    public int cuMemAlloc(final long[] deviceAddress, final long bytes)
    {
        final ServerConnection connection = currentConnection();
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        if (bytes == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final CallSlot slot = connection.slot();
        final ThreadRequestState state = slot.requestState;
        state.memAlloc.wrapAndApplyHeader(state.buffer, 0, state.header).correlationId(slot.arm()).bytes(bytes);
        final int status = call(connection, slot, length(state.memAlloc.encodedLength()));
        if (status == CUDA_SUCCESS)
        {
            deviceAddress[0] = slot.value1;
        }
        else if (slot.message != null)
        {
            lastError = slot.message;
        }
        return status;
    }

    public int cuMemFree(final long deviceAddress)
    {
        final ServerConnection connection = currentConnection();
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final ThreadRequestState state = connection.requestState();
        state.memFree.wrapAndApplyHeader(state.buffer, 0, state.header).deviceAddress(deviceAddress);
        return connection.send(state.buffer, length(state.memFree.encodedLength()));
    }

    public int cuMemGetInfo(final long[] free, final long[] total)
    {
        final ServerConnection connection = currentConnection();
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final CallSlot slot = connection.slot();
        final ThreadRequestState state = slot.requestState;
        state.memGetInfo.wrapAndApplyHeader(state.buffer, 0, state.header).correlationId(slot.arm());
        final int status = call(connection, slot, length(state.memGetInfo.encodedLength()));
        if (status == CUDA_SUCCESS)
        {
            free[0] = slot.value1;
            total[0] = slot.value2;
        }
        return status;
    }

    public int cuMemcpyHtoD(final long dst, final byte[] src, final int srcOffset, final long bytes)
    {
        return cuMemcpyHtoDAsync(dst, src, srcOffset, bytes, 0);
    }

    /**
     * The data is in the request stream when this returns, so the program may reuse its buffer at once.
     */
    public int cuMemcpyHtoDAsync(final long dst, final byte[] src, final int srcOffset, final long bytes, final long stream)
    {
        if (srcOffset < 0 || bytes < 0 || srcOffset + bytes > src.length)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final ServerConnection connection = connectionForStream(stream);
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        connection.requestState().userData.wrap(src);
        return sendHostToDevice(connection, stream, dst, srcOffset, bytes);
    }

    /**
     * Host-to-device copy from native memory, as the interposer passes it.
     */
    public int cuMemcpyHtoDAsync(final long dst, final long srcAddress, final long bytes, final long stream)
    {
        final ServerConnection connection = connectionForStream(stream);
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        long copied = 0;
        while (copied < bytes)
        {
            final int piece = (int)Math.min(MAX_COPY_PIECE, bytes - copied);
            connection.requestState().userData.wrap(srcAddress + copied, piece);
            final int status = sendHostToDevice(connection, stream, dst + copied, 0, piece);
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
            copied += piece;
        }
        return CUDA_SUCCESS;
    }

    public int cuMemcpyDtoH(final byte[] dst, final int dstOffset, final long src, final long bytes)
    {
        return cuMemcpyDtoHAsync(dst, dstOffset, src, bytes, 0);
    }

    /**
     * Waits for the data, as CUDA does for copies into pageable memory.
     */
    public int cuMemcpyDtoHAsync(final byte[] dst, final int dstOffset, final long src, final long bytes, final long stream)
    {
        if (dstOffset < 0 || bytes < 0 || dstOffset + bytes > dst.length)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final ServerConnection connection = connectionForStream(stream);
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final CallSlot slot = connection.slot();
        slot.copyDestination.wrap(dst, dstOffset, (int)bytes);
        return receiveDeviceToHost(connection, slot, stream, src, bytes);
    }

    /**
     * Device-to-host copy into native memory, as the interposer passes it.
     */
    public int cuMemcpyDtoHAsync(final long dstAddress, final long src, final long bytes, final long stream)
    {
        final ServerConnection connection = connectionForStream(stream);
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        long copied = 0;
        do
        {
            final int piece = (int)Math.min(MAX_COPY_PIECE, bytes - copied);
            final CallSlot slot = connection.slot();
            slot.copyDestination.wrap(dstAddress + copied, piece);
            final int status = receiveDeviceToHost(connection, slot, stream, src + copied, piece);
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
            copied += piece;
        }
        while (copied < bytes);
        return CUDA_SUCCESS;
    }

    public int cuMemcpyDtoD(final long dst, final long src, final long bytes)
    {
        return cuMemcpyDtoDAsync(dst, src, bytes, 0);
    }

    /**
     * A copy between two GPUs of this program (cuMemcpyPeer, or a device-to-device copy whose ends lie on
     * different GPUs). They may be on different servers and cannot reach each other's memory, so the bytes
     * pass through this process in pieces: each read after the source GPU's earlier work, each written
     * before the destination's later work. The copy is complete on the source side when this returns.
     */
    public int cuMemcpyPeer(final long dst, final int dstDevice, final long src, final int srcDevice, final long bytes)
    {
        int status = checkDevice(dstDevice);
        if (status == CUDA_SUCCESS)
        {
            status = checkDevice(srcDevice);
        }
        if (status != CUDA_SUCCESS || bytes <= 0)
        {
            return bytes < 0 ? CUDA_ERROR_INVALID_VALUE : status;
        }
        final ServerConnection from = connections.get(srcDevice);
        final ServerConnection to = connections.get(dstDevice);
        final byte[] staging = new byte[(int)Math.min(bytes, PEER_COPY_PIECE)];
        for (long copied = 0; copied < bytes; copied += staging.length)
        {
            final int piece = (int)Math.min(staging.length, bytes - copied);
            final CallSlot slot = from.slot();
            slot.copyDestination.wrap(staging, 0, piece);
            status = receiveDeviceToHost(from, slot, 0, src + copied, piece);
            if (status == CUDA_SUCCESS)
            {
                to.requestState().userData.wrap(staging, 0, piece);
                status = sendHostToDevice(to, 0, dst + copied, 0, piece);
            }
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
        }
        return CUDA_SUCCESS;
    }

    /**
     * @return the device of a context this program holds, or -1 for an unknown one.
     */
    public int deviceOf(final long context)
    {
        return deviceOfContext(context);
    }


    public int cuMemcpyDtoDAsync(final long dst, final long src, final long bytes, final long stream)
    {
        final ServerConnection connection = connectionForStream(stream);
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final ThreadRequestState state = connection.requestState();
        state.dtoD.wrapAndApplyHeader(state.buffer, 0, state.header)
            .streamHandle(wireStream(stream)).dstDeviceAddress(dst).srcDeviceAddress(src).bytes(bytes);
        return connection.send(state.buffer, length(state.dtoD.encodedLength()));
    }

    public int cuMemsetD8(final long dst, final int value, final long count)
    {
        return memset(dst, value & 0xff, 1, count, 1, 0, 0);
    }

    public int cuMemsetD16(final long dst, final int value, final long count)
    {
        return memset(dst, value & 0xffff, 2, count, 1, 0, 0);
    }

    public int cuMemsetD32(final long dst, final int value, final long count)
    {
        return memset(dst, value, 4, count, 1, 0, 0);
    }

    public int cuMemsetD8Async(final long dst, final int value, final long count, final long stream)
    {
        return memset(dst, value & 0xff, 1, count, 1, 0, stream);
    }

    public int cuMemsetD16Async(final long dst, final int value, final long count, final long stream)
    {
        return memset(dst, value & 0xffff, 2, count, 1, 0, stream);
    }

    public int cuMemsetD32Async(final long dst, final int value, final long count, final long stream)
    {
        return memset(dst, value, 4, count, 1, 0, stream);
    }

    /**
     * cuMemsetD2D8/16/32 and their Async forms: {@code elementSize} is 1, 2 or 4.
     */
    public int cuMemsetD2D(
        final long dst, final long pitch, final int value, final int elementSize, final long width, final long height,
        final long stream)
    {
        return memset(dst, value, elementSize, width, height, pitch, stream);
    }

    // ---------------------------------------------------------------- streams and events

    public int cuStreamCreate(final long[] stream, final int flags)
    {
        return cuStreamCreateWithPriority(stream, flags, 0);
    }

    public int cuStreamCreateWithPriority(final long[] stream, final int flags, final int priority)
    {
        final int device = currentDevice();
        if (device < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final ServerConnection connection = connections.get(device);
        final long handle = newHandle(device);
        final ThreadRequestState state = connection.requestState();
        state.streamCreate.wrapAndApplyHeader(state.buffer, 0, state.header)
            .streamHandle(handle).contextHandle(wireContext(contextStacks.get().current())).flags(flags).priority(priority);
        final int status = connection.send(state.buffer, length(state.streamCreate.encodedLength()));
        if (status == CUDA_SUCCESS)
        {
            streamInfos.put(handle, new StreamInfo(contextStacks.get().current(), flags));
            stream[0] = handle;
        }
        return status;
    }

    /** The context and flags a stream was created with. */
    private record StreamInfo(long context, int flags)
    {
    }

    /**
     * cuStreamGetCtx, cuStreamGetDevice, cuStreamGetFlags and cuStreamGetId in one: what the stream was
     * created with; a default stream is the current context's.
     *
     * @param answers receives the context, the device, the flags and the stream's unique id.
     */
    public int streamQuery(final long stream, final long[] answers)
    {
        if (isDefaultStream(stream))
        {
            final long context = contextStacks.get().current();
            final int device = deviceOfContext(context);
            if (device < 0)
            {
                return CUDA_ERROR_INVALID_CONTEXT;
            }
            answers[0] = context;
            answers[1] = device;
            answers[2] = 0;
            answers[3] = ((long)device << DEVICE_SHIFT) | (stream == CU_STREAM_PER_THREAD ? CU_STREAM_PER_THREAD :
                CU_STREAM_LEGACY);
            return CUDA_SUCCESS;
        }
        final StreamInfo info = streamInfos.get(stream);
        if (info == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        answers[0] = info.context();
        answers[1] = deviceOfHandle(stream);
        answers[2] = info.flags();
        answers[3] = stream;
        return CUDA_SUCCESS;
    }

    public int cuStreamDestroy(final long stream)
    {
        if (isDefaultStream(stream))
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final ServerConnection connection = connectionForHandle(stream);
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        streamInfos.remove(stream);
        final ThreadRequestState state = connection.requestState();
        state.streamDestroy.wrapAndApplyHeader(state.buffer, 0, state.header).streamHandle(stream);
        return connection.send(state.buffer, length(state.streamDestroy.encodedLength()));
    }

    public int cuStreamSynchronize(final long stream)
    {
        final ServerConnection connection = connectionForStream(stream);
        return connection == null ? CUDA_ERROR_INVALID_HANDLE :
            synchronize(connection, SyncKind.STREAM_SYNCHRONIZE, wireStream(stream));
    }

    public int cuStreamQuery(final long stream)
    {
        final ServerConnection connection = connectionForStream(stream);
        return connection == null ? CUDA_ERROR_INVALID_HANDLE :
            synchronize(connection, SyncKind.STREAM_QUERY, wireStream(stream));
    }

    /**
     * An event of another GPU (which may be on another server) is waited for here, on the host, before the
     * stream gets any later work: the order CUDA promises, at the cost of the caller waiting.
     */
    public int cuStreamWaitEvent(final long stream, final long event, final int flags)
    {
        final ServerConnection connection = connectionForStream(stream);
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final ServerConnection eventConnection = connectionForHandle(event);
        if (eventConnection != null && eventConnection != connection)
        {
            return synchronize(eventConnection, SyncKind.EVENT_SYNCHRONIZE, event);
        }
        final ThreadRequestState state = connection.requestState();
        state.streamWaitEvent.wrapAndApplyHeader(state.buffer, 0, state.header)
            .streamHandle(wireStream(stream)).eventHandle(event);
        return connection.send(state.buffer, length(state.streamWaitEvent.encodedLength()));
    }

    public int cuEventCreate(final long[] event, final int flags)
    {
        final int device = currentDevice();
        if (device < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final ServerConnection connection = connections.get(device);
        final long handle = newHandle(device);
        final ThreadRequestState state = connection.requestState();
        state.eventCreate.wrapAndApplyHeader(state.buffer, 0, state.header)
            .eventHandle(handle).contextHandle(wireContext(contextStacks.get().current())).flags(flags);
        final int status = connection.send(state.buffer, length(state.eventCreate.encodedLength()));
        if (status == CUDA_SUCCESS)
        {
            event[0] = handle;
        }
        return status;
    }

    public int cuEventRecord(final long event, final long stream)
    {
        final ServerConnection connection = connectionForHandle(event);
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final ThreadRequestState state = connection.requestState();
        state.eventRecord.wrapAndApplyHeader(state.buffer, 0, state.header)
            .eventHandle(event).streamHandle(wireStream(stream));
        return connection.send(state.buffer, length(state.eventRecord.encodedLength()));
    }

    public int cuEventQuery(final long event)
    {
        final ServerConnection connection = connectionForHandle(event);
        return connection == null ? CUDA_ERROR_INVALID_HANDLE :
            synchronize(connection, SyncKind.EVENT_QUERY, event);
    }

    public int cuEventSynchronize(final long event)
    {
        final ServerConnection connection = connectionForHandle(event);
        return connection == null ? CUDA_ERROR_INVALID_HANDLE :
            synchronize(connection, SyncKind.EVENT_SYNCHRONIZE, event);
    }

    public int cuEventElapsedTime(final float[] milliseconds, final long start, final long end)
    {
        final ServerConnection connection = connectionForHandle(start);
        if (connection == null || connectionForHandle(end) != connection)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final CallSlot slot = connection.slot();
        final ThreadRequestState state = slot.requestState;
        state.elapsedTime.wrapAndApplyHeader(state.buffer, 0, state.header)
            .correlationId(slot.arm()).startEventHandle(start).endEventHandle(end);
        final int status = call(connection, slot, length(state.elapsedTime.encodedLength()));
        if (status == CUDA_SUCCESS)
        {
            milliseconds[0] = Float.intBitsToFloat((int)slot.value1);
        }
        return status;
    }

    public int cuEventDestroy(final long event)
    {
        final ServerConnection connection = connectionForHandle(event);
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final ThreadRequestState state = connection.requestState();
        state.eventDestroy.wrapAndApplyHeader(state.buffer, 0, state.header).eventHandle(event);
        return connection.send(state.buffer, length(state.eventDestroy.encodedLength()));
    }

    // ---------------------------------------------------------------- modules and kernels

    /**
     * The bytes of a module image, read when the image travels to the server (and again after a reset).
     */
    @FunctionalInterface
    public interface ModuleImage extends AutoCloseable
    {
        /**
         * @return PTX text, a fatbin or a cubin.
         */
        byte[] bytes();

        /**
         * Called for each place this driver keeps the image (see {@link NativeModuleImage}).
         */
        default ModuleImage retain()
        {
            return this;
        }

        /**
         * Called when a place that kept the image lets it go.
         */
        default void release()
        {
        }

        /**
         * Lets the maker's reference go: whoever makes an image hands it on in a try-with-resources.
         */
        default void close()
        {
            release();
        }
    }

    /**
     * @param image PTX text, a fatbin or cubin; loaded on the server, which reports why when it cannot.
     */
    public int cuModuleLoadData(final long[] module, final byte[] image)
    {
        return cuModuleLoadData(module, () -> image);
    }

    /**
     * @param image kept (retained) while the module is loaded, to load it again after a reset or on another GPU.
     */
    public int cuModuleLoadData(final long[] module, final ModuleImage image)
    {
        final int device = currentDevice();
        if (device < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final byte[] bytes = image == null ? null : image.bytes();
        if (bytes == null || bytes.length == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final long handle = newHandle(device);
        final int status = loadModule(connections.get(device), handle, bytes, wireContext(contextStacks.get().current()));
        if (status == CUDA_SUCCESS)
        {
            moduleImages.put(handle, image.retain());
            module[0] = handle;
        }
        return status;
    }

    /**
     * Loads a library lazily, as CUDA's lazy loading does: the image travels to the server only when a kernel,
     * a global or the module of the library is first asked for, and an image that cannot run there fails
     * then (CUDA_ERROR_NO_BINARY_FOR_GPU at the kernel's launch, as on a GPU of an architecture it lacks).
     * Runtimes register every fatbin of a program and its libraries at start-up (hundreds of MiB for
     * PyTorch), so shipping them all eagerly would cost seconds and fail programs for kernels they never run.
     *
     * @param library receives the handle, usable as a module handle.
     * @param image   read when the library is first used; it must stay readable until the library is unloaded.
     */
    public int cuLibraryLoadData(final long[] library, final ModuleImage image)
    {
        if (!initialised)
        {
            return CUDA_ERROR_NOT_INITIALIZED;
        }
        if (library == null || image == null)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        // Libraries need no context; without a current one they belong to device 0, as the runtime's do.
        final long handle = newHandle(Math.max(0, currentDevice()));
        unshippedLibraries.put(handle, image.retain());
        library[0] = handle;
        return CUDA_SUCCESS;
    }

    /**
     * Ships a library loaded with {@link #cuLibraryLoadData} before its first use; a no-op for any other handle.
     */
    private int shipLibrary(final long handle)
    {
        final ModuleImage image = unshippedLibraries.get(handle);
        if (image == null)
        {
            return unloadableLibraries.getOrDefault(handle, CUDA_SUCCESS);
        }
        synchronized (image)
        {
            if (!unshippedLibraries.containsKey(handle))
            {
                return unloadableLibraries.getOrDefault(handle, moduleImages.containsKey(handle) ?
                    CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE);
            }
            final ServerConnection connection = connectionForHandle(handle);
            if (connection == null)
            {
                return CUDA_ERROR_INVALID_HANDLE;
            }
            final byte[] bytes = image.bytes();
            final int status = bytes == null || bytes.length == 0 ?
                CUDA_ERROR_INVALID_IMAGE : loadModule(connection, handle, bytes, 0);
            if (status == CUDA_SUCCESS)
            {
                moduleImages.put(handle, image.retain());
            }
            else if (status != CUDA_ERROR_DEVICE_UNAVAILABLE)
            {
                // The image itself cannot load there: every later use gets the same answer without resending it.
                unloadableLibraries.put(handle, status);
            }
            else
            {
                return status;
            }
            unshippedLibraries.remove(handle);
            image.release();
            return status;
        }
    }

    /**
     * @return whether the handle names a library loaded lazily that has not travelled to the server yet.
     */
    public boolean isUnshippedLibrary(final long handle)
    {
        return unshippedLibraries.containsKey(handle);
    }

    /**
     * Sends the image cut down to what the server's GPU can run ({@link FatbinTrimmer}); should the GPU refuse
     * the cut image, the whole one follows, so that trimming can cost time but never a module.
     */
    private int loadModule(final ServerConnection connection, final long handle, final byte[] image, final long context)
    {
        final DeviceInfo device = connection.device();
        final int major = device.attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        final int minor = device.attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        final byte[] trimmed = major <= 0 || minor < 0 ? image : FatbinTrimmer.forArchitecture(image, 10 * major + minor);
        final String errorBefore = lastError;
        final int status = sendModule(connection, handle, trimmed, context);
        if (trimmed != image && (status == CUDA_ERROR_INVALID_IMAGE || status == CUDA_ERROR_NO_BINARY_FOR_GPU ||
            status == CUDA_ERROR_INVALID_PTX))
        {
            lastError = errorBefore;
            return sendModule(connection, handle, image, context);
        }
        return status;
    }

    private int sendModule(final ServerConnection connection, final long handle, final byte[] image, final long context)
    {
        final CallSlot slot = connection.slot();
        final ThreadRequestState state = slot.requestState;
        final int chunkBytes = connection.maxPayloadLength() - IMAGE_HEAD_LENGTH;
        state.userData.wrap(image);
        for (int offset = 0; offset < image.length; offset += chunkBytes)
        {
            final int chunk = Math.min(chunkBytes, image.length - offset);
            state.imageChunk.wrapAndApplyHeader(state.buffer, 0, state.header)
                .moduleHandle(handle).byteOffset(offset).totalBytes(image.length);
            state.buffer.putInt(IMAGE_HEAD_LENGTH - VAR_LENGTH_BYTES, chunk, ByteOrder.LITTLE_ENDIAN);
            final int status = connection.send(state.buffer, IMAGE_HEAD_LENGTH, state.userData, offset, chunk);
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
        }
        state.moduleLoad.wrapAndApplyHeader(state.buffer, 0, state.header)
            .correlationId(slot.arm()).moduleHandle(handle).contextHandle(context);
        final int status = call(connection, slot, length(state.moduleLoad.encodedLength()));
        if (status != CUDA_SUCCESS && slot.message != null)
        {
            lastError = slot.message;
        }
        return status;
    }

    public int cuModuleUnload(final long module)
    {
        final ServerConnection connection = connectionForHandle(module);
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final ModuleImage unshipped = unshippedLibraries.remove(module);
        if (unshipped != null)
        {
            unshipped.release();
            return CUDA_SUCCESS;
        }
        if (unloadableLibraries.remove(module) != null)
        {
            return CUDA_SUCCESS;
        }
        final long[] copies = modulesOnOtherDevices.remove(module);
        if (copies != null)
        {
            for (final long copy : copies)
            {
                if (copy != 0)
                {
                    cuModuleUnload(copy);
                }
            }
        }
        final ModuleImage image = moduleImages.remove(module);
        if (image != null)
        {
            image.release();
        }
        functionNames.entrySet().removeIf(function ->
        {
            if (function.getValue().module() != module)
            {
                return false;
            }
            forgetLayout(function.getKey());
            final long[] lookups = functionsOnOtherDevices.remove(function.getKey());
            for (int device = 0; lookups != null && device < lookups.length; device++)
            {
                forgetLayout(lookups[device]);
            }
            functionAttributes.remove(function.getKey());
            return true;
        });
        final ThreadRequestState state = connection.requestState();
        state.moduleUnload.wrapAndApplyHeader(state.buffer, 0, state.header).moduleHandle(module);
        return connection.send(state.buffer, length(state.moduleUnload.encodedLength()));
    }

    public int cuModuleGetFunction(final long[] function, final long module, final String name)
    {
        final ServerConnection connection = connectionForHandle(module);
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if (name == null)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int shipped = shipLibrary(module);
        if (shipped != CUDA_SUCCESS)
        {
            return shipped;
        }
        final int device = deviceOfHandle(module);
        final int index = nextFunctionIndex.getAndIncrement();
        final long handle = ((long)device << DEVICE_SHIFT) | (FIRST_HANDLE + index);
        final int status = lookUpFunction(connection, device, module, index, name);
        if (status == CUDA_SUCCESS)
        {
            functionNames.put(handle, new FunctionName(module, name));
            function[0] = handle;
        }
        return status;
    }

    private int lookUpFunction(
        final ServerConnection connection, final int device, final long module, final int index, final String name)
    {
        final long handle = ((long)device << DEVICE_SHIFT) | (FIRST_HANDLE + index);
        final CallSlot slot = connection.slot();
        final ThreadRequestState state = slot.requestState;
        state.getFunction.wrapAndApplyHeader(state.buffer, 0, state.header)
            .correlationId(slot.arm()).moduleHandle(module).functionHandle(handle).name(name);
        final int status = call(connection, slot, length(state.getFunction.encodedLength()));
        if (status == CUDA_SUCCESS)
        {
            registerLayout(device, index, new KernelLayout(module, slot.parameterBufferSize,
                Arrays.copyOf(slot.parameterOffsets, slot.parameterCount),
                Arrays.copyOf(slot.parameterSizes, slot.parameterCount), new FunctionAttributes()));
        }
        return status;
    }

    /**
     * A global of the module's copy on the current GPU: a runtime looks a __device__ variable up on whichever
     * GPU is current, and each GPU has its own.
     */
    public int cuModuleGetGlobal(final long[] deviceAddress, final long[] bytes, final long loaded, final String name)
    {
        if (connectionForHandle(loaded) == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final int shipped = shipLibrary(loaded);
        if (shipped != CUDA_SUCCESS)
        {
            return shipped;
        }
        final int current = currentDevice();
        final long module;
        if (current < 0 || current == deviceOfHandle(loaded))
        {
            module = loaded;
        }
        else
        {
            synchronized (functionsOnOtherDevices)
            {
                module = moduleOn(loaded, current);
            }
            if (module == 0)
            {
                return CUDA_ERROR_INVALID_HANDLE;
            }
        }
        final ServerConnection connection = connectionForHandle(module);
        final CallSlot slot = connection.slot();
        final ThreadRequestState state = slot.requestState;
        state.getGlobal.wrapAndApplyHeader(state.buffer, 0, state.header)
            .correlationId(slot.arm()).moduleHandle(module).name(name);
        final int status = call(connection, slot, length(state.getGlobal.encodedLength()));
        if (status == CUDA_SUCCESS)
        {
            if (deviceAddress != null)
            {
                deviceAddress[0] = slot.value1;
            }
            if (bytes != null)
            {
                bytes[0] = slot.value2;
            }
        }
        return status;
    }

    /**
     * cuCtxGetLimit on the current context's GPU (libraries such as cuBLAS read the limits at start-up).
     */
    public int cuCtxGetLimit(final long[] value, final int limit)
    {
        return contextLimit(value, limit, false, 0);
    }

    /**
     * cuCtxSetLimit on the current context's GPU; the GPU may round the value, as cuCtxGetLimit then shows.
     */
    public int cuCtxSetLimit(final int limit, final long value)
    {
        return contextLimit(null, limit, true, value);
    }

    private int contextLimit(final long[] out, final int limit, final boolean set, final long value)
    {
        final ServerConnection connection = currentConnection();
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final CallSlot slot = connection.slot();
        final ThreadRequestState state = slot.requestState;
        state.contextLimit.wrapAndApplyHeader(state.buffer, 0, state.header)
            .correlationId(slot.arm()).cuLimit(limit).set(set ? 1 : 0).value(value);
        final int status = call(connection, slot, length(state.contextLimit.encodedLength()));
        if (status == CUDA_SUCCESS && out != null)
        {
            out[0] = slot.value1;
        }
        return status;
    }

    /**
     * cuTensorMapEncodeTiled, cuTensorMapEncodeIm2col or cuTensorMapReplaceAddress: a tensor map's format is
     * the driver's own, so the GPU's driver builds it on the server, once the server has checked that every
     * byte the map can reach lies in one allocation of this tenant.
     *
     * @param request          the call's arguments, {@link TensorMapArgumentsEncoder#ENCODED_LENGTH} bytes as the
     *                         schema's TensorMapArguments lays them out.
     * @param tensorMapAddress where the 128-byte CUtensorMap is written.
     */
    public int cuTensorMapEncode(final DirectBuffer request, final long tensorMapAddress)
    {
        final ServerConnection connection = currentConnection();
        if (connection == null)
        {
            return initialised ? CUDA_ERROR_INVALID_CONTEXT : CUDA_ERROR_NOT_INITIALIZED;
        }
        if (request.capacity() < TensorMapArgumentsEncoder.ENCODED_LENGTH || tensorMapAddress == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final CallSlot slot = connection.slot();
        final ThreadRequestState state = slot.requestState;
        slot.copyDestination.wrap(tensorMapAddress, TensorMapArgumentsEncoder.tensorMapLength());
        slot.copyBytes = TensorMapArgumentsEncoder.tensorMapLength();
        state.tensorMapEncode.wrapAndApplyHeader(state.buffer, 0, state.header).correlationId(slot.arm());
        state.buffer.putBytes(state.tensorMapEncode.arguments().offset(), request, 0,
            TensorMapArgumentsEncoder.ENCODED_LENGTH);
        final int status = call(connection, slot, length(state.tensorMapEncode.encodedLength()));
        if (status != CUDA_SUCCESS)
        {
            if (slot.message != null)
            {
                lastError = slot.message;
            }
            return status;
        }
        return slot.copyReceivedBytes == TensorMapArgumentsEncoder.tensorMapLength() ? CUDA_SUCCESS : CUDA_ERROR_UNKNOWN;
    }

    /**
     * @return the name a function was looked up by (cuFuncGetName), or null for an unknown handle.
     */
    public String functionName(final long function)
    {
        final FunctionName known = functionNames.get(function);
        return known == null ? null : known.name();
    }

    /**
     * @return the module or library a function was looked up in (cuFuncGetModule), or 0 for an unknown handle.
     */
    public long functionModule(final long function)
    {
        final FunctionName known = functionNames.get(function);
        return known == null ? 0 : known.module();
    }

    /**
     * cuFuncGetParamInfo: where a parameter lies in the kernel's parameter buffer, and its size.
     *
     * @param offsetAndSize receives the offset, then the size, in bytes.
     */
    public int cuFuncGetParamInfo(final long function, final long index, final long[] offsetAndSize)
    {
        final KernelLayout layout = layoutOf(function);
        if (layout == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if (index < 0 || index >= layout.sizes().length)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        offsetAndSize[0] = layout.offsets()[(int)index];
        offsetAndSize[1] = layout.sizes()[(int)index];
        return CUDA_SUCCESS;
    }

    /** {@link #cuOccupancyClusters} query: how many clusters of the launch can be resident at once. */
    public static final int MAX_ACTIVE_CLUSTERS = 0;
    /** {@link #cuOccupancyClusters} query: the largest cluster the launch could use. */
    public static final int MAX_POTENTIAL_CLUSTER_SIZE = 1;

    /**
     * cuOccupancyMaxActiveClusters or cuOccupancyMaxPotentialClusterSize, answered by the GPU's driver:
     * cluster placement depends on the GPU's layout, which only the driver knows.
     *
     * @param cluster the launch's cluster shape, x y z; zeros when it gives none.
     */
    public int cuOccupancyClusters(
        final int[] value, final int query, final long function, final int[] grid, final int[] block,
        final int sharedMemBytes, final int[] cluster)
    {
        final ServerConnection connection = connectionForHandle(function);
        if (connection == null || layoutOf(function) == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final CallSlot slot = connection.slot();
        final ThreadRequestState state = slot.requestState;
        state.clusterOccupancy.wrapAndApplyHeader(state.buffer, 0, state.header)
            .correlationId(slot.arm()).functionHandle(function).query(query)
            .gridX(grid[0]).gridY(grid[1]).gridZ(grid[2])
            .blockX(block[0]).blockY(block[1]).blockZ(block[2])
            .sharedMemBytes(sharedMemBytes)
            .clusterX(cluster[0]).clusterY(cluster[1]).clusterZ(cluster[2]);
        final int status = call(connection, slot, length(state.clusterOccupancy.encodedLength()));
        if (status == CUDA_SUCCESS)
        {
            value[0] = (int)slot.value1;
        }
        else if (slot.message != null)
        {
            lastError = slot.message;
        }
        return status;
    }

    /**
     * Answered from what the server said before when nothing was set since (see {@link FunctionAttributes}):
     * occupancy calculations and cudaFuncGetAttributes ask for several attributes on every call.
     */
    public int cuFuncGetAttribute(final int[] value, final int attribute, final long function)
    {
        final ServerConnection connection = connectionForHandle(function);
        final KernelLayout layout = layoutOf(function);
        if (connection == null || layout == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final FunctionAttributes known = layout.attributes();
        final int answer = known.answer(attribute);
        if (answer != FunctionAttributes.UNKNOWN)
        {
            value[0] = answer;
            return CUDA_SUCCESS;
        }
        final int generation = known.generation();
        final CallSlot slot = connection.slot();
        final ThreadRequestState state = slot.requestState;
        state.getAttribute.wrapAndApplyHeader(state.buffer, 0, state.header)
            .correlationId(slot.arm()).functionHandle(function).attribute(attribute);
        final int status = call(connection, slot, length(state.getAttribute.encodedLength()));
        if (status == CUDA_SUCCESS)
        {
            value[0] = (int)slot.value1;
            known.remember(attribute, value[0], generation);
        }
        return status;
    }

    /**
     * Settable attributes (the dynamic shared memory limit, the carve-out preference) change how the kernel's
     * later launches run on the server, so the server answers whether it can honour them; setting again the
     * value this client last set needs no round trip. They belong to the kernel on every GPU: they are set on
     * each GPU it was looked up on, and remembered for the GPUs it is looked up on later.
     */
    public int cuFuncSetAttribute(final long function, final int attribute, final int value)
    {
        final KernelLayout layout = layoutOf(function);
        if (layout != null && layout.attributes().isAlreadySet(attribute, value))
        {
            return CUDA_SUCCESS;
        }
        int status = setAttribute(function, attribute, value);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        synchronized (functionsOnOtherDevices)
        {
            functionAttributes.computeIfAbsent(function, key -> new ConcurrentHashMap<>()).put(attribute, value);
            final long[] copies = functionsOnOtherDevices.get(function);
            for (int device = 0; copies != null && device < copies.length && status == CUDA_SUCCESS; device++)
            {
                if (copies[device] != 0)
                {
                    status = setAttribute(copies[device], attribute, value);
                }
            }
        }
        return status;
    }

    private int setAttribute(final long function, final int attribute, final int value)
    {
        final ServerConnection connection = connectionForHandle(function);
        final KernelLayout layout = layoutOf(function);
        if (connection == null || layout == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final FunctionAttributes known = layout.attributes();
        synchronized (known)
        {
            known.settingStarts();
            final CallSlot slot = connection.slot();
            final ThreadRequestState state = slot.requestState;
            state.setAttribute.wrapAndApplyHeader(state.buffer, 0, state.header)
                .correlationId(slot.arm()).functionHandle(function).attribute(attribute).value(value);
            final int status = call(connection, slot, length(state.setAttribute.encodedLength()));
            known.settled(attribute, value, status == CUDA_SUCCESS);
            return status;
        }
    }

    /**
     * @param parameters each parameter's bytes (little endian), as many as the kernel declares.
     */
    public int cuLaunchKernel(
        final long function,
        final int gridX, final int gridY, final int gridZ,
        final int blockX, final int blockY, final int blockZ,
        final int sharedMemBytes, final long stream,
        final byte[][] parameters)
    {
        return cuLaunchKernelEx(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes, stream,
            0, 0, 0, parameters);
    }

    /**
     * @param mappings mapped host memory whose host addresses launch parameters may hold (see {@link HostMappings}).
     */
    public void hostMappings(final HostMappings mappings)
    {
        hostMappings = mappings;
    }

    /**
     * cuLaunchKernelEx with a thread block cluster shape (CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION), or 0, 0, 0
     * for none: kernels built for a cluster shape need it at launch.
     */
    public int cuLaunchKernelEx(
        final long kernel,
        final int gridX, final int gridY, final int gridZ,
        final int blockX, final int blockY, final int blockZ,
        final int sharedMemBytes, final long stream,
        final int clusterX, final int clusterY, final int clusterZ,
        final byte[][] parameters)
    {
        final long function = functionOn(kernel, launchDevice(stream));
        final KernelLayout layout = layoutOf(function);
        if (layout == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if ((parameters == null ? layout.sizes().length != 0 : parameters.length != layout.sizes().length) ||
            layout.attributes().exceedsDynamicSharedLimit(sharedMemBytes))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final ServerConnection connection = connectionForHandle(function);
        final ThreadRequestState state = connection.requestState();
        final int parametersOffset = encodeLaunch(state, function, stream, gridX, gridY, gridZ, blockX, blockY, blockZ,
            sharedMemBytes, clusterX, clusterY, clusterZ, layout.bufferSize());
        for (int i = 0; i < layout.sizes().length; i++)
        {
            if (parameters[i].length != layout.sizes()[i])
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            state.buffer.putBytes(parametersOffset + layout.offsets()[i], parameters[i]);
        }
        return connection.send(state.buffer, parametersOffset + layout.bufferSize());
    }

    /**
     * cuLaunchKernel(Ex) as the interposer calls it: {@code kernelParams} is the native {@code void**} array,
     * or else {@code packed} holds the parameters at their offsets (CU_LAUNCH_PARAM_BUFFER_POINTER, at least
     * the kernel's parameter bytes long).
     */
    public int cuLaunchKernel(
        final long kernel,
        final int gridX, final int gridY, final int gridZ,
        final int blockX, final int blockY, final int blockZ,
        final int sharedMemBytes, final long stream,
        final long kernelParams, final long packed, final long packedBytes,
        final int clusterX, final int clusterY, final int clusterZ)
    {
        final long function = functionOn(kernel, launchDevice(stream));
        final KernelLayout layout = layoutOf(function);
        if (layout == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final boolean hasParameters = layout.sizes().length != 0;
        if ((hasParameters && (packed == 0 ? kernelParams == 0 : packedBytes < layout.bufferSize())) ||
            layout.attributes().exceedsDynamicSharedLimit(sharedMemBytes))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final ServerConnection connection = connectionForHandle(function);
        final ThreadRequestState state = connection.requestState();
        final int parametersOffset = encodeLaunch(state, function, stream, gridX, gridY, gridZ, blockX, blockY, blockZ,
            sharedMemBytes, clusterX, clusterY, clusterZ, layout.bufferSize());
        if (packed != 0)
        {
            state.userData.wrap(packed, layout.bufferSize());
            state.buffer.putBytes(parametersOffset, state.userData, 0, layout.bufferSize());
        }
        else
        {
            for (int i = 0; i < layout.sizes().length; i++)
            {
                final long argument = UnsafeApi.getLong(kernelParams + (long)i * Long.BYTES);
                state.userData.wrap(argument, layout.sizes()[i]);
                state.buffer.putBytes(parametersOffset + layout.offsets()[i], state.userData, 0, layout.sizes()[i]);
            }
        }
        final HostMappings mappings = hostMappings;
        if (mappings != null && !mappings.isEmpty())
        {
            translateHostAddresses(mappings, state, parametersOffset, layout);
        }
        return connection.send(state.buffer, parametersOffset + layout.bufferSize());
    }

    // ---------------------------------------------------------------- errors

    public int cuGetErrorName(final int error, final String[] name)
    {
        final String found = CuResult.name(error);
        if (found == null)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        name[0] = found;
        return CUDA_SUCCESS;
    }

    public int cuGetErrorString(final int error, final String[] description)
    {
        final String found = CuResult.description(error);
        if (found == null)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        description[0] = found;
        return CUDA_SUCCESS;
    }

    /**
     * Close every session: the server frees the slices and everything in them.
     */
    public synchronized void close()
    {
        for (int i = 0; i < connections.length(); i++)
        {
            final ServerConnection connection = connections.getAndSet(i, null);
            if (connection != null)
            {
                connection.close();
            }
        }
        initialised = false;
    }

    // ---------------------------------------------------------------- internals

    private int sendHostToDevice(
        final ServerConnection connection, final long stream, final long dst, final int sourceOffset, final long bytes)
    {
        final ThreadRequestState state = connection.requestState();
        final int chunkBytes = connection.maxPayloadLength() - HTOD_HEAD_LENGTH;
        final long wireStream = wireStream(stream);
        for (long done = 0; done < bytes; done += chunkBytes)
        {
            final int chunk = (int)Math.min(chunkBytes, bytes - done);
            state.htoD.wrapAndApplyHeader(state.buffer, 0, state.header).streamHandle(wireStream).deviceAddress(dst + done);
            state.buffer.putInt(HTOD_HEAD_LENGTH - VAR_LENGTH_BYTES, chunk, ByteOrder.LITTLE_ENDIAN);
            final int status = connection.send(
                state.buffer, HTOD_HEAD_LENGTH, state.userData, sourceOffset + (int)done, chunk);
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
        }
        return CUDA_SUCCESS;
    }

    private int receiveDeviceToHost(
        final ServerConnection connection, final CallSlot slot, final long stream, final long src, final long bytes)
    {
        final ThreadRequestState state = slot.requestState;
        slot.copyBytes = bytes;
        final long correlationId = slot.arm();
        state.dtoH.wrapAndApplyHeader(state.buffer, 0, state.header)
            .correlationId(correlationId).streamHandle(wireStream(stream)).deviceAddress(src).bytes(bytes);
        int status = connection.send(state.buffer, length(state.dtoH.encodedLength()));
        if (status != CUDA_SUCCESS)
        {
            slot.expectedCorrelationId = -1;
            return status;
        }
        status = connection.await(slot);
        connection.flushDeviceOutput();
        if (status == CUDA_SUCCESS && slot.copyReceivedBytes != bytes)
        {
            lastError = "device-to-host copy delivered " + slot.copyReceivedBytes + " of " + bytes + " bytes";
            return CUDA_ERROR_UNKNOWN;
        }
        return status == CUDA_SUCCESS ? connection.takeDeferredError() : status;
    }

    private int memset(
        final long dst, final int value, final int elementSize, final long width, final long height, final long pitch,
        final long stream)
    {
        final ServerConnection connection = connectionForStream(stream);
        if (connection == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final ThreadRequestState state = connection.requestState();
        state.memset.wrapAndApplyHeader(state.buffer, 0, state.header)
            .streamHandle(wireStream(stream)).deviceAddress(dst).value(value).elementSize(elementSize)
            .width(width).height(height).pitch(pitch);
        return connection.send(state.buffer, length(state.memset.encodedLength()));
    }

    private int synchronize(final ServerConnection connection, final SyncKind kind, final long handle)
    {
        final CallSlot slot = connection.slot();
        final ThreadRequestState state = slot.requestState;
        state.synchronize.wrapAndApplyHeader(state.buffer, 0, state.header)
            .correlationId(slot.arm()).kind(kind).handle(handle);
        final int status = call(connection, slot, length(state.synchronize.encodedLength()));
        connection.flushDeviceOutput();
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        return connection.takeDeferredError();
    }

    private int call(final ServerConnection connection, final CallSlot slot, final int length)
    {
        final int sent = connection.send(slot.requestState.buffer, length);
        if (sent != CUDA_SUCCESS)
        {
            slot.expectedCorrelationId = -1;
            return sent;
        }
        return connection.await(slot);
    }

    /**
     * The GPU a launch on this stream runs on: the stream's, or the current context's for a default stream.
     */
    private int launchDevice(final long stream)
    {
        return isDefaultStream(stream) ? currentDevice() : deviceOfHandle(stream);
    }

    /**
     * The function to launch on a GPU. CUDA's kernels belong to no context: a runtime looks a kernel up once
     * and launches it on whichever GPU is current. Here a function is bound to the GPU it was looked up on,
     * so a launch elsewhere loads the module on that GPU too (once) and looks the function up there.
     *
     * @return the function's handle on the device, or 0 when it cannot be had there (lastError says why).
     */
    private long functionOn(final long function, final int device)
    {
        final int home = deviceOfHandle(function);
        if (home == device || device < 0 || device >= connections.length())
        {
            return function;
        }
        final long[] known = functionsOnOtherDevices.get(function);
        if (known != null && known[device] != 0)
        {
            return known[device];
        }
        synchronized (functionsOnOtherDevices)
        {
            final long[] byDevice = functionsOnOtherDevices.computeIfAbsent(function, key -> new long[connections.length()]);
            if (byDevice[device] == 0)
            {
                final FunctionName name = functionNames.get(function);
                final long module = name == null ? 0 : moduleOn(name.module(), device);
                if (module == 0)
                {
                    return 0;
                }
                final int index = nextFunctionIndex.getAndIncrement();
                final long handle = ((long)device << DEVICE_SHIFT) | (FIRST_HANDLE + index);
                if (lookUpFunction(connections.get(device), device, module, index, name.name()) != CUDA_SUCCESS)
                {
                    return 0;
                }
                functionNames.put(handle, new FunctionName(module, name.name()));
                for (final Map.Entry<Integer, Integer> attribute :
                    functionAttributes.getOrDefault(function, Map.of()).entrySet())
                {
                    if (setAttribute(handle, attribute.getKey(), attribute.getValue()) != CUDA_SUCCESS)
                    {
                        return 0;
                    }
                }
                byDevice[device] = handle;
            }
            return byDevice[device];
        }
    }

    /** A module's copy on a GPU, loaded from the module's image on first need. Callers hold functionsOnOtherDevices. */
    private long moduleOn(final long module, final int device)
    {
        final long[] byDevice = modulesOnOtherDevices.computeIfAbsent(module, key -> new long[connections.length()]);
        if (byDevice[device] == 0)
        {
            final ModuleImage image = moduleImages.get(module);
            if (image == null)
            {
                lastError = "the module of the kernel is not loaded";
                return 0;
            }
            final long handle = newHandle(device);
            if (loadModule(connections.get(device), handle, image.bytes(), 0) != CUDA_SUCCESS)
            {
                return 0;
            }
            moduleImages.put(handle, image.retain());
            byDevice[device] = handle;
        }
        return byDevice[device];
    }

    /** Pointer-sized parameters holding a host address of mapped memory get its device copy's address. */
    private static void translateHostAddresses(
        final HostMappings mappings, final ThreadRequestState state, final int parametersOffset, final KernelLayout layout)
    {
        for (int i = 0; i < layout.sizes().length; i++)
        {
            if (layout.sizes()[i] == Long.BYTES)
            {
                final int at = parametersOffset + layout.offsets()[i];
                final long value = state.buffer.getLong(at, ByteOrder.LITTLE_ENDIAN);
                final long translated = mappings.translate(value);
                if (translated != value)
                {
                    state.buffer.putLong(at, translated, ByteOrder.LITTLE_ENDIAN);
                }
            }
        }
    }

    private static int encodeLaunch(
        final ThreadRequestState state,
        final long function, final long stream,
        final int gridX, final int gridY, final int gridZ,
        final int blockX, final int blockY, final int blockZ,
        final int sharedMemBytes, final int clusterX, final int clusterY, final int clusterZ, final int parameterBytes)
    {
        state.launch.wrapAndApplyHeader(state.buffer, 0, state.header)
            .functionHandle(function).streamHandle(wireStream(stream))
            .gridX(gridX).gridY(gridY).gridZ(gridZ)
            .blockX(blockX).blockY(blockY).blockZ(blockZ)
            .sharedMemBytes(sharedMemBytes)
            .clusterX(clusterX).clusterY(clusterY).clusterZ(clusterZ);
        final int lengthOffset = MessageHeaderEncoder.ENCODED_LENGTH + LaunchKernelEncoder.BLOCK_LENGTH;
        state.buffer.putInt(lengthOffset, parameterBytes, ByteOrder.LITTLE_ENDIAN);
        state.buffer.setMemory(lengthOffset + VAR_LENGTH_BYTES, parameterBytes, (byte)0);
        return lengthOffset + VAR_LENGTH_BYTES;
    }

    private static int length(final int encodedLength)
    {
        return MessageHeaderEncoder.ENCODED_LENGTH + encodedLength;
    }

    private int checkDevice(final int device)
    {
        if (!initialised)
        {
            return CUDA_ERROR_NOT_INITIALIZED;
        }
        return device >= 0 && device < connections.length() ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
    }

    private long newHandle(final int device)
    {
        return ((long)device << DEVICE_SHIFT) | nextHandle.getAndIncrement();
    }

    private static long primaryContext(final int device)
    {
        return PRIMARY_CONTEXT_TAG | device;
    }

    private int deviceOfContext(final long context)
    {
        if (context == 0 || !initialised)
        {
            return -1;
        }
        if ((context & ~0xffffL) == PRIMARY_CONTEXT_TAG)
        {
            final int device = (int)(context & 0xffff);
            return device < connections.length() ? device : -1;
        }
        final Integer device = createdContextDevices.get(context);
        return device == null ? -1 : device;
    }

    private static long wireContext(final long context)
    {
        return (context & ~0xffffL) == PRIMARY_CONTEXT_TAG ? 0 : context;
    }

    private static boolean isDefaultStream(final long stream)
    {
        return stream == 0 || stream == CU_STREAM_LEGACY || stream == CU_STREAM_PER_THREAD;
    }

    private static long wireStream(final long stream)
    {
        return isDefaultStream(stream) ? 0 : stream;
    }

    private int currentDevice()
    {
        return deviceOfContext(contextStacks.get().current());
    }

    private ServerConnection currentConnection()
    {
        final int device = currentDevice();
        return device < 0 ? null : connections.get(device);
    }

    private ServerConnection connectionForStream(final long stream)
    {
        return isDefaultStream(stream) ? currentConnection() : connectionForHandle(stream);
    }

    private int deviceOfHandle(final long handle)
    {
        return (int)(handle >>> DEVICE_SHIFT);
    }

    private ServerConnection connectionForHandle(final long handle)
    {
        final int device = deviceOfHandle(handle);
        if (!initialised || device >= connections.length() || (handle & SEQUENCE_MASK) < FIRST_HANDLE)
        {
            return null;
        }
        return connections.get(device);
    }

    private KernelLayout layoutOf(final long function)
    {
        final int device = deviceOfHandle(function);
        if (!initialised || device >= connections.length())
        {
            return null;
        }
        final long index = (function & SEQUENCE_MASK) - FIRST_HANDLE;
        final KernelLayout[] layouts = kernelLayouts.get(device);
        return index >= 0 && index < layouts.length ? layouts[(int)index] : null;
    }

    /** A function of an unloaded module: its handle is invalid from now on, here as on the server. */
    private void forgetLayout(final long function)
    {
        final int device = deviceOfHandle(function);
        final long index = (function & SEQUENCE_MASK) - FIRST_HANDLE;
        if (function != 0 && device < connections.length() && index >= 0 && index < kernelLayouts.get(device).length)
        {
            registerLayout(device, (int)index, null);
        }
    }

    private void registerLayout(final int device, final int index, final KernelLayout layout)
    {
        while (true)
        {
            final KernelLayout[] current = kernelLayouts.get(device);
            final KernelLayout[] updated = Arrays.copyOf(current, Math.max(current.length, index + 1));
            updated[index] = layout;
            if (kernelLayouts.compareAndSet(device, current, updated))
            {
                return;
            }
        }
    }
}
