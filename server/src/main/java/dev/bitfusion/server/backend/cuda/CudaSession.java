package dev.bitfusion.server.backend.cuda;

import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.server.backend.ParameterLayout;
import dev.bitfusion.server.backend.TenantMemory;
import dev.bitfusion.server.backend.TensorMapExtent;
import dev.bitfusion.transport.protocol.SyncKind;
import dev.bitfusion.transport.protocol.TensorMapArgumentsDecoder;
import dev.bitfusion.transport.protocol.TensorMapKind;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUevent;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongArrayList;
import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

import static dev.bitfusion.transport.CuResult.*;
import static jcuda.driver.JCudaDriver.*;

/**
 * One tenant on a real GPU: its own CUDA context, made current on the calling thread before each call when
 * it is not already (any thread can run any tenant; a session's own thread switches only between its GPUs'
 * contexts). Client handles map onto CUstream/CUevent/CUmodule/CUfunction;
 * every client context shares the tenant's one CUDA context.
 * <p>
 * Copies go through a ring of pinned staging slots: host-to-device data is copied into a slot and sent with
 * an asynchronous copy, so the next chunk arrives from the network while the previous one crosses PCIe;
 * device-to-host copies keep several slots in flight and hand each to the sink as its event completes.
 * <p>
 * Thread safety: used by the session's executor only.
 */
final class CudaSession implements BackendSession
{
    static final int STAGING_SLOTS = 4;
    static final int STAGING_SLOT_BYTES = 4 * 1024 * 1024;
    private static final int CU_EVENT_DISABLE_TIMING = 0x2;
    private static final long NO_CONTEXT = -1;
    private static final int MAX_REMEMBERED_TENSOR_MAPS = 4096;
    private static final int[] NO_JIT_OPTIONS = new int[0];
    /** The driver wants an option value array even for no options; native memory, for the reason in moduleLoad. */
    private static final Pointer NO_JIT_OPTION_VALUES = Pointer.to(ByteBuffer.allocateDirect(Long.BYTES));

    private static final class LoadedModule
    {
        final CUmodule module;
        final KernelSignatures signatures;

        LoadedModule(final CUmodule module, final KernelSignatures signatures)
        {
            this.module = module;
            this.signatures = signatures;
        }
    }

    private static final class Kernel
    {
        final CUfunction function;
        final long moduleHandle;
        final int bufferSize;
        final UnsafeBuffer parameters;
        final Pointer kernelParams;
        /** The same void** array in native memory, for launches through {@link DriverExtras}. */
        final UnsafeBuffer nativeKernelParams;

        Kernel(final CUfunction function, final long moduleHandle, final KernelSignatures.Signature signature)
        {
            this.function = function;
            this.moduleHandle = moduleHandle;
            this.bufferSize = signature.bufferSize();
            // One fixed parameter buffer per kernel: the void** array pointing into it is built once.
            final ByteBuffer buffer = ByteBuffer.allocateDirect(Math.max(8, signature.bufferSize()));
            parameters = new UnsafeBuffer(buffer);
            final NativePointerObject[] pointers = new NativePointerObject[signature.offsets().length];
            for (int i = 0; i < pointers.length; i++)
            {
                pointers[i] = new HostPointer(parameters.addressOffset() + signature.offsets()[i]);
            }
            kernelParams = pointers.length == 0 ? null : Pointer.to(pointers);
            nativeKernelParams = new UnsafeBuffer(ByteBuffer.allocateDirect(Math.max(8, 8 * pointers.length)));
            for (int i = 0; i < pointers.length; i++)
            {
                nativeKernelParams.putLong(8 * i, parameters.addressOffset() + signature.offsets()[i]);
            }
        }
    }

    /** The context this backend last made current on each thread (see {@link #enter()}). */
    private static final ThreadLocal<CUcontext> CURRENT_CONTEXT = new ThreadLocal<>();

    private final CUcontext context = new CUcontext();
    private final CUcontext popped = new CUcontext();
    private final TenantMemory tenant;
    private final LongHashSet contexts = new LongHashSet();
    private final Long2LongHashMap streamContexts = new Long2LongHashMap(NO_CONTEXT);
    private final Long2ObjectHashMap<CUstream> streams = new Long2ObjectHashMap<>();
    private final Long2ObjectHashMap<CUevent> events = new Long2ObjectHashMap<>();
    private final Long2ObjectHashMap<LoadedModule> modules = new Long2ObjectHashMap<>();
    private final Long2ObjectHashMap<Kernel> kernels = new Long2ObjectHashMap<>();
    /** Whether a module of this session calls printf: its synchronisations then go through DevicePrintf. */
    private boolean usesPrintf;
    private final long[] globalDim = new long[TensorMapArgumentsDecoder.globalDimLength()];
    private final long[] globalStrides = new long[TensorMapArgumentsDecoder.globalStridesLength()];
    private final int[] boxDim = new int[TensorMapArgumentsDecoder.boxDimLength()];
    private final int[] elementStrides = new int[TensorMapArgumentsDecoder.elementStridesLength()];
    private final int[] lowerCorner = new int[TensorMapArgumentsDecoder.lowerCornerLength()];
    private final int[] upperCorner = new int[TensorMapArgumentsDecoder.upperCornerLength()];
    /** The reach of tensor maps built here, by their bytes, so cuTensorMapReplaceAddress can be checked. */
    private final Map<ByteBuffer, Long> tensorMapExtents = new HashMap<>();
    private final CUstream defaultStream = new CUstream();
    private final int[] intOut = new int[1];
    private final long[] longOut = new long[1];
    private final float[] floatOut = new float[1];

    private final HostPointer[] slotPointers = new HostPointer[STAGING_SLOTS];
    private final UnsafeBuffer[] slotBuffers = new UnsafeBuffer[STAGING_SLOTS];
    private final CUevent[] slotEvents = new CUevent[STAGING_SLOTS];
    private final boolean[] slotPending = new boolean[STAGING_SLOTS];
    private int nextSlot;
    private boolean memset2dSupported = true;

    /**
     * @throws CudaUnavailableException when the driver will not create the context.
     */
    CudaSession(final CUdevice device, final long sliceBytes)
    {
        tenant = new TenantMemory(sliceBytes);
        final int status = cuCtxCreate(context, 0, device);
        if (status != CUDA_SUCCESS)
        {
            throw new CudaUnavailableException("cuCtxCreate failed: " + CUresult.stringFor(status));
        }
        cuCtxPopCurrent(popped);
        contexts.add(0L);
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
        int status = tenant.admit(bytes, result);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        final DevicePointer pointer = new DevicePointer();
        status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuMemAlloc(pointer, bytes);
        }
        if (status == CUDA_SUCCESS)
        {
            tenant.allocated(pointer.address(), bytes);
            result.value1 = pointer.address();
        }
        return status;
    }

    public int memFree(final long deviceAddress)
    {
        if (deviceAddress == 0)
        {
            return CUDA_SUCCESS;
        }
        if (tenant.free(deviceAddress) < 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuMemFree(DevicePointer.at(deviceAddress));
        }
        return status;
    }

    public int copyHostToDevice(
        final long streamHandle, final long deviceAddress, final DirectBuffer source, final int offset, final int length)
    {
        final CUstream stream = stream(streamHandle);
        if (stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if (!tenant.contains(deviceAddress, length))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        int status = enter();
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        for (int position = 0; position < length && status == CUDA_SUCCESS; position += STAGING_SLOT_BYTES)
        {
            final int chunk = Math.min(STAGING_SLOT_BYTES, length - position);
            final int slot = nextSlot;
            nextSlot = (nextSlot + 1) % STAGING_SLOTS;
            status = awaitSlot(slot);
            if (status == CUDA_SUCCESS)
            {
                source.getBytes(offset + position, slotBuffers[slot], 0, chunk);
                status = cuMemcpyHtoDAsync(DevicePointer.at(deviceAddress + position), slotPointers[slot], chunk, stream);
            }
            if (status == CUDA_SUCCESS)
            {
                status = recordSlot(slot, stream);
            }
        }
        return status;
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
        final DevicePrintf devicePrintf = usesPrintf ? DevicePrintf.get() : null;
        return devicePrintf == null ? copyDeviceToHost(streamHandle, deviceAddress, bytes, maxChunkBytes, sink) :
            devicePrintf.synchronize(() -> copyDeviceToHost(streamHandle, deviceAddress, bytes, maxChunkBytes, sink),
                printfSink);
    }

    private int copyDeviceToHost(
        final long streamHandle,
        final long deviceAddress,
        final long bytes,
        final int maxChunkBytes,
        final DeviceDataSink sink)
    {
        final CUstream stream = stream(streamHandle);
        if (stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if (bytes < 0 || maxChunkBytes <= 0 || !tenant.contains(deviceAddress, bytes))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        int status = enter();
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        // Whole staging slots cross PCIe (one copy and one event per 4 MiB), and go out in network-sized pieces:
        // a copy and an event per network message would cost the driver more than the bytes do.
        final long chunkBytes = STAGING_SLOT_BYTES;
        final long chunks = (bytes + chunkBytes - 1) / chunkBytes;
        long issued = 0;
        long delivered = 0;
        while (delivered < chunks)
        {
            while (issued < chunks && issued - delivered < STAGING_SLOTS)
            {
                final int slot = (int)(issued % STAGING_SLOTS);
                final long offset = issued * chunkBytes;
                status = awaitSlot(slot);
                if (status == CUDA_SUCCESS)
                {
                    status = cuMemcpyDtoHAsync(slotPointers[slot], DevicePointer.at(deviceAddress + offset),
                        Math.min(chunkBytes, bytes - offset), stream);
                }
                if (status == CUDA_SUCCESS)
                {
                    status = recordSlot(slot, stream);
                }
                if (status != CUDA_SUCCESS)
                {
                    return status;
                }
                issued++;
            }
            final int slot = (int)(delivered % STAGING_SLOTS);
            final long offset = delivered * chunkBytes;
            status = awaitSlot(slot);
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
            final long slotBytes = Math.min(chunkBytes, bytes - offset);
            for (long sent = 0; sent < slotBytes; sent += maxChunkBytes)
            {
                if (!sink.onData(offset + sent, slotPointers[slot].address() + sent,
                    (int)Math.min(maxChunkBytes, slotBytes - sent)))
                {
                    return CUDA_ERROR_UNKNOWN;
                }
            }
            delivered++;
        }
        return CUDA_SUCCESS;
    }

    public int copyDeviceToDevice(
        final long streamHandle, final long dstDeviceAddress, final long srcDeviceAddress, final long bytes)
    {
        final CUstream stream = stream(streamHandle);
        if (stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if (!tenant.contains(dstDeviceAddress, bytes) || !tenant.contains(srcDeviceAddress, bytes))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuMemcpyDtoDAsync(DevicePointer.at(dstDeviceAddress), DevicePointer.at(srcDeviceAddress), bytes, stream);
        }
        return status;
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
        final CUstream stream = stream(streamHandle);
        if (stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if ((elementSize != 1 && elementSize != 2 && elementSize != 4) || width < 0 || height < 1 ||
            (height > 1 && pitch < width * elementSize) || deviceAddress % elementSize != 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final long span = (height - 1) * pitch + width * elementSize;
        if (!tenant.contains(deviceAddress, span))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (width == 0)
        {
            return CUDA_SUCCESS;
        }
        int status = enter();
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        if (height == 1)
        {
            return memsetRow(stream, deviceAddress, value, elementSize, width);
        }
        if (memset2dSupported)
        {
            final DevicePointer target = DevicePointer.at(deviceAddress);
            status = switch (elementSize)
            {
                case 1 -> cuMemsetD2D8Async(target, pitch, (byte)value, width, height, stream);
                case 2 -> cuMemsetD2D16Async(target, pitch, (short)value, width, height, stream);
                default -> cuMemsetD2D32Async(target, pitch, value, width, height, stream);
            };
            if (status != CUDA_ERROR_NOT_SUPPORTED)
            {
                return status;
            }
            // A driver without 2D memset (our own libcuda.so.1 in CI) gets one 1D memset per row.
            memset2dSupported = false;
        }
        status = CUDA_SUCCESS;
        for (long row = 0; row < height && status == CUDA_SUCCESS; row++)
        {
            status = memsetRow(stream, deviceAddress + row * pitch, value, elementSize, width);
        }
        return status;
    }

    public int contextCreate(final long contextHandle, final int flags)
    {
        return contexts.add(contextHandle) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
    }

    public int contextDestroy(final long contextHandle)
    {
        if (contextHandle == 0 || !contexts.remove(contextHandle))
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final LongArrayList owned = new LongArrayList();
        streamContexts.forEach((stream, owner) ->
        {
            if (owner == contextHandle)
            {
                owned.addLong(stream);
            }
        });
        for (int i = 0; i < owned.size(); i++)
        {
            streamDestroy(owned.getLong(i));
        }
        return CUDA_SUCCESS;
    }

    public int streamCreate(final long streamHandle, final long contextHandle, final int flags, final int priority)
    {
        if (!contexts.contains(contextHandle))
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        if (streamHandle == 0 || streams.containsKey(streamHandle))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final CUstream stream = new CUstream();
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = priority == 0 ? cuStreamCreate(stream, flags) : cuStreamCreateWithPriority(stream, flags, priority);
        }
        if (status == CUDA_SUCCESS)
        {
            streams.put(streamHandle, stream);
            streamContexts.put(streamHandle, contextHandle);
        }
        return status;
    }

    public int streamDestroy(final long streamHandle)
    {
        final CUstream stream = streamHandle == 0 ? null : streams.remove(streamHandle);
        if (stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        streamContexts.remove(streamHandle);
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuStreamDestroy(stream);
        }
        return status;
    }

    public int streamWaitEvent(final long streamHandle, final long eventHandle)
    {
        final CUstream stream = stream(streamHandle);
        final CUevent event = events.get(eventHandle);
        if (stream == null || event == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuStreamWaitEvent(stream, event, 0);
        }
        return status;
    }

    /**
     * A session whose modules call printf synchronises through {@link DevicePrintf}, which gives it what its
     * kernels printed; any other synchronises directly.
     */
    public int synchronize(final SyncKind kind, final long handle, final Consumer<String> printfSink)
    {
        final boolean blocking = kind != SyncKind.STREAM_QUERY && kind != SyncKind.EVENT_QUERY;
        final DevicePrintf devicePrintf = usesPrintf && blocking ? DevicePrintf.get() : null;
        return devicePrintf == null ? synchronize(kind, handle) :
            devicePrintf.synchronize(() -> synchronize(kind, handle), printfSink);
    }

    private int synchronize(final SyncKind kind, final long handle)
    {
        final CUstream stream;
        final CUevent event;
        switch (kind)
        {
            case CONTEXT_SYNCHRONIZE:
                if (!contexts.contains(handle))
                {
                    return CUDA_ERROR_INVALID_CONTEXT;
                }
                stream = null;
                event = null;
                break;
            case STREAM_SYNCHRONIZE:
            case STREAM_QUERY:
                stream = stream(handle);
                if (stream == null)
                {
                    return CUDA_ERROR_INVALID_HANDLE;
                }
                event = null;
                break;
            case EVENT_SYNCHRONIZE:
            case EVENT_QUERY:
                event = events.get(handle);
                if (event == null)
                {
                    return CUDA_ERROR_INVALID_HANDLE;
                }
                stream = null;
                break;
            default:
                return CUDA_ERROR_INVALID_VALUE;
        }
        int status = enter();
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        status = switch (kind)
        {
            case CONTEXT_SYNCHRONIZE -> cuCtxSynchronize();
            case STREAM_SYNCHRONIZE -> cuStreamSynchronize(stream);
            case STREAM_QUERY -> cuStreamQuery(stream);
            case EVENT_SYNCHRONIZE -> cuEventSynchronize(event);
            default -> cuEventQuery(event);
        };
        return status;
    }

    public int eventCreate(final long eventHandle, final long contextHandle, final int flags)
    {
        if (!contexts.contains(contextHandle))
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        if (events.containsKey(eventHandle))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final CUevent event = new CUevent();
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuEventCreate(event, flags);
        }
        if (status == CUDA_SUCCESS)
        {
            events.put(eventHandle, event);
        }
        return status;
    }

    public int eventRecord(final long eventHandle, final long streamHandle)
    {
        final CUevent event = events.get(eventHandle);
        final CUstream stream = stream(streamHandle);
        if (event == null || stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuEventRecord(event, stream);
        }
        return status;
    }

    public int eventDestroy(final long eventHandle)
    {
        final CUevent event = events.remove(eventHandle);
        if (event == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuEventDestroy(event);
        }
        return status;
    }

    public int eventElapsedTime(final long startEventHandle, final long endEventHandle, final CallResult result)
    {
        final CUevent start = events.get(startEventHandle);
        final CUevent end = events.get(endEventHandle);
        if (start == null || end == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuEventElapsedTime(floatOut, start, end);
        }
        if (status == CUDA_SUCCESS)
        {
            result.value1 = Float.floatToRawIntBits(floatOut[0]);
        }
        return status;
    }

    public int moduleLoad(final long moduleHandle, final long contextHandle, final byte[] image, final CallResult result)
    {
        if (!contexts.contains(contextHandle))
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        if (modules.containsKey(moduleHandle) || image == null || image.length == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final byte[] driverImage = KernelSignatures.driverImage(image);
        final CUmodule module = new CUmodule();
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            // The image goes to the driver from native memory: JCuda pins a Java array for the whole call
            // (GetPrimitiveArrayCritical), and a load that compiles PTX can take seconds, during which no
            // thread of the server could collect garbage.
            final ByteBuffer nativeImage = ByteBuffer.allocateDirect(driverImage.length).put(0, driverImage);
            try
            {
                // JCuda has no cuLibrary* API: a library the client loads becomes a module here.
                status = cuModuleLoadDataEx(module, Pointer.to(nativeImage), 0, NO_JIT_OPTIONS, NO_JIT_OPTION_VALUES);
            }
            finally
            {
                BufferUtil.free(nativeImage);
            }
        }
        if (status != CUDA_SUCCESS)
        {
            result.message = "cuModuleLoadDataEx failed: " + CUresult.stringFor(status);
            return status;
        }
        final KernelSignatures signatures = KernelSignatures.of(driverImage);
        usesPrintf |= signatures.usesPrintf();
        modules.put(moduleHandle, new LoadedModule(module, signatures));
        tenant.moduleLoaded(moduleHandle, 0);
        return CUDA_SUCCESS;
    }

    public int moduleUnload(final long moduleHandle)
    {
        final LoadedModule loaded = modules.remove(moduleHandle);
        if (loaded == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        kernels.values().removeIf(kernel -> kernel.moduleHandle == moduleHandle);
        tenant.moduleUnloaded(moduleHandle);
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuModuleUnload(loaded.module);
        }
        return status;
    }

    public int moduleGetFunction(
        final long moduleHandle, final long functionHandle, final String name, final ParameterLayout layout)
    {
        final LoadedModule loaded = modules.get(moduleHandle);
        if (loaded == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final CUfunction function = new CUfunction();
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuModuleGetFunction(function, loaded.module, name);
        }
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        final KernelSignatures.Signature signature = loaded.signatures.kernel(name);
        if (signature == null)
        {
            System.err.println("bitfusion server: kernel " + name + " has no parameter layout in its image " +
                "(neither PTX nor cubin .nv.info): CUDA_ERROR_NOT_SUPPORTED");
            return CUDA_ERROR_NOT_SUPPORTED;
        }
        kernels.put(functionHandle, new Kernel(function, moduleHandle, signature));
        layout.reset(signature.offsets().length);
        layout.bufferSize = signature.bufferSize();
        for (int i = 0; i < layout.count; i++)
        {
            layout.offsets[i] = signature.offsets()[i];
            layout.sizes[i] = signature.sizes()[i];
        }
        return CUDA_SUCCESS;
    }

    public int moduleGetGlobal(final long moduleHandle, final String name, final CallResult result)
    {
        final LoadedModule loaded = modules.get(moduleHandle);
        if (loaded == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final DevicePointer pointer = new DevicePointer();
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuModuleGetGlobal(pointer, longOut, loaded.module, name);
        }
        if (status == CUDA_SUCCESS)
        {
            // The client may copy to and from a global: it joins the ranges this tenant may name.
            tenant.addGlobal(moduleHandle, pointer.address(), longOut[0]);
            result.value1 = pointer.address();
            result.value2 = longOut[0];
        }
        return status;
    }

    public int functionGetAttribute(final long functionHandle, final int attribute, final CallResult result)
    {
        final Kernel kernel = kernels.get(functionHandle);
        if (kernel == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuFuncGetAttribute(intOut, attribute, kernel.function);
        }
        if (status == CUDA_SUCCESS)
        {
            result.value1 = intOut[0];
        }
        return status;
    }

    public int functionSetAttribute(final long functionHandle, final int attribute, final int value)
    {
        final Kernel kernel = kernels.get(functionHandle);
        if (kernel == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuFuncSetAttribute(kernel.function, attribute, value);
        }
        return status;
    }

    /**
     * The map is built only when everything it can reach lies in one allocation (or global) of this tenant;
     * an address is replaced only in a map built here, whose reach is then known.
     */
    public int tensorMapEncode(
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
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = encode(arguments, tensorMap.addressOffset());
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

    private int encode(final TensorMapArgumentsDecoder arguments, final long tensorMap)
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

    public int clusterOccupancy(
        final long functionHandle, final int query, final int[] grid, final int[] block, final int sharedMemBytes,
        final int[] cluster, final CallResult result)
    {
        final Kernel kernel = kernels.get(functionHandle);
        if (kernel == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = enter();
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

    public int contextLimit(final int limit, final boolean set, final long value, final CallResult result)
    {
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = set ? cuCtxSetLimit(limit, value) : CUDA_SUCCESS;
            if (status == CUDA_SUCCESS)
            {
                status = cuCtxGetLimit(longOut, limit);
            }
        }
        if (status == CUDA_SUCCESS)
        {
            result.value1 = longOut[0];
        }
        return status;
    }

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
        final Kernel kernel = kernels.get(functionHandle);
        final CUstream stream = stream(streamHandle);
        if (kernel == null || stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if (parametersLength < kernel.bufferSize)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        parameters.getBytes(parametersOffset, kernel.parameters, 0, kernel.bufferSize);
        int status = enter();
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

    public void close()
    {
        if (enter() == CUDA_SUCCESS)
        {
            cuCtxSynchronize();
            streams.values().forEach(stream -> cuStreamDestroy(stream));
            events.values().forEach(event -> cuEventDestroy(event));
            modules.values().forEach(module -> cuModuleUnload(module.module));
            for (int i = 0; i < tenant.allocationCount(); i++)
            {
                cuMemFree(DevicePointer.at(tenant.allocationAt(i)));
            }
            for (int slot = 0; slot < STAGING_SLOTS; slot++)
            {
                if (slotPointers[slot] != null)
                {
                    cuEventDestroy(slotEvents[slot]);
                    cuMemFreeHost(slotPointers[slot]);
                }
            }
        }
        streams.clear();
        streamContexts.clear();
        events.clear();
        modules.clear();
        kernels.clear();
        tenant.clear();
        if (CURRENT_CONTEXT.get() == context)
        {
            CURRENT_CONTEXT.remove();
        }
        cuCtxDestroy(context);
    }

    private int memsetRow(final CUstream stream, final long address, final int value, final int elementSize, final long width)
    {
        final DevicePointer target = DevicePointer.at(address);
        return switch (elementSize)
        {
            case 1 -> cuMemsetD8Async(target, (byte)value, width, stream);
            case 2 -> cuMemsetD16Async(target, (short)value, width, stream);
            default -> cuMemsetD32Async(target, value, width, stream);
        };
    }

    /** Wait until a staging slot's last copy is done, allocating the slot on first use. */
    private int awaitSlot(final int slot)
    {
        if (slotPointers[slot] == null)
        {
            final HostPointer pointer = new HostPointer();
            int status = cuMemAllocHost(pointer, STAGING_SLOT_BYTES);
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
            final CUevent event = new CUevent();
            status = cuEventCreate(event, CU_EVENT_DISABLE_TIMING);
            if (status != CUDA_SUCCESS)
            {
                cuMemFreeHost(pointer);
                return status;
            }
            slotPointers[slot] = pointer;
            slotBuffers[slot] = new UnsafeBuffer(pointer.address(), STAGING_SLOT_BYTES);
            slotEvents[slot] = event;
            return CUDA_SUCCESS;
        }
        if (!slotPending[slot])
        {
            return CUDA_SUCCESS;
        }
        slotPending[slot] = false;
        return cuEventSynchronize(slotEvents[slot]);
    }

    private int recordSlot(final int slot, final CUstream stream)
    {
        final int status = cuEventRecord(slotEvents[slot], stream);
        slotPending[slot] = status == CUDA_SUCCESS;
        return status;
    }

    private CUstream stream(final long streamHandle)
    {
        return streamHandle == 0 ? defaultStream : streams.get(streamHandle);
    }

    /**
     * Makes the session's context current on the calling thread. A session's calls come on its own thread, so
     * the context is set once and stays: no push and pop around every call (a session with several GPUs
     * switches between their contexts).
     */
    private int enter()
    {
        if (CURRENT_CONTEXT.get() == context)
        {
            return CUDA_SUCCESS;
        }
        final int status = cuCtxSetCurrent(context);
        if (status == CUDA_SUCCESS)
        {
            CURRENT_CONTEXT.set(context);
        }
        return status;
    }
}
