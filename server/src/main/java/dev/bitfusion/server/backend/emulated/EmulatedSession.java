package dev.bitfusion.server.backend.emulated;

import dev.bitfusion.server.backend.SliceBudget;
import dev.bitfusion.emulator.EmulatedFunction;
import dev.bitfusion.emulator.EmulatedModule;
import dev.bitfusion.emulator.Emulator;
import dev.bitfusion.emulator.EmulatorException;
import dev.bitfusion.emulator.GlobalSymbol;
import dev.bitfusion.emulator.memory.DeviceAddressSpace;
import dev.bitfusion.emulator.memory.DeviceMemory;
import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.server.backend.ParameterLayout;
import dev.bitfusion.server.backend.TenantMemory;
import dev.bitfusion.transport.protocol.SyncKind;
import dev.bitfusion.transport.protocol.TensorMapArgumentsDecoder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongHashSet;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.function.Consumer;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * One tenant on an emulated GPU.
 * <p>
 * The session's executor runs every call to completion in arrival order, which is a valid schedule for
 * any set of CUDA streams: work on one stream stays ordered, and by the time a query or synchronize
 * executes, everything sent before it is done. Events therefore record the time they execute at.
 * <p>
 * Thread safety: used by the session's executor only.
 */
final class EmulatedSession implements BackendSession
{
    private static final int CU_EVENT_DISABLE_TIMING = 0x2;
    private static final int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    private static final int CU_LIMIT_MAX_L2_FETCH_GRANULARITY = 5;
    private static final int CU_LIMIT_SHMEM_SIZE = 7;
    private static final int CU_LIMIT_CIG_ENABLED = 8;
    private static final int CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT = 9;
    private static final long NO_CONTEXT = -1;
    /** No value was set for the function: its own attribute holds. */
    private static final long NOT_SET = Long.MIN_VALUE;

    private static final class EventState
    {
        final int flags;
        long recordedAtNs;
        boolean recorded;

        EventState(final int flags)
        {
            this.flags = flags;
        }
    }

    /** The server's view of the tenant's memory: its slice and the ranges it may name. */
    private final TenantMemory tenant;
    /** The emulator's: the host memory behind each range, and module globals. */
    private final DeviceMemory memory;
    private final UnsafeBuffer deviceView = new UnsafeBuffer(0, 0);
    private final LongHashSet contexts = new LongHashSet();
    private final Long2LongHashMap streamContexts = new Long2LongHashMap(NO_CONTEXT);
    private final Long2ObjectHashMap<EventState> events = new Long2ObjectHashMap<>();
    private final Long2ObjectHashMap<EmulatedModule> modules = new Long2ObjectHashMap<>();
    private final Long2ObjectHashMap<EmulatedFunction> functions = new Long2ObjectHashMap<>();
    /**
     * What this session set with cuFuncSetAttribute, by function handle: modules' functions are shared between
     * sessions, a kernel's settings are the session's own, as each context has its own on a GPU.
     */
    private final Long2LongHashMap dynamicSharedLimits = new Long2LongHashMap(NOT_SET);
    private final Long2LongHashMap carveouts = new Long2LongHashMap(NOT_SET);
    private final Long2LongHashMap functionModules = new Long2LongHashMap(NO_CONTEXT);
    /** CUlimit values by index: stack 1 KiB, printf FIFO 1 MiB, malloc heap 8 MiB, sync depth 2, 2048 pending
     * launches, 64-byte L2 fetches, no persisting L2, 48 KiB shared memory, no CIG, CIG fallback on. */
    private final long[] contextLimits = { 1024, 1 << 20, 8 << 20, 2, 2048, 64, 0, 48 * 1024, 0, 1 };

    EmulatedSession(final DeviceAddressSpace addressSpace, final SliceBudget budget)
    {
        tenant = new TenantMemory(budget);
        memory = new DeviceMemory(addressSpace, budget.sliceBytes());
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
        final int status = tenant.admit(bytes, result);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        final long address = memory.allocate(bytes);
        if (address == 0)
        {
            tenant.notAllocated(bytes);
            result.message = "allocation of " + bytes + " bytes failed: the emulated GPU's address space or the " +
                "host's memory is exhausted";
            return CUDA_ERROR_OUT_OF_MEMORY;
        }
        tenant.allocated(address, bytes);
        result.value1 = address;
        return CUDA_SUCCESS;
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
        memory.free(deviceAddress);
        return CUDA_SUCCESS;
    }

    public int copyHostToDevice(
        final long streamHandle, final long deviceAddress, final DirectBuffer source, final int offset, final int length)
    {
        if (!isStream(streamHandle))
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final long host = hostAddress(deviceAddress, length);
        if (host == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        deviceView.wrap(host, length);
        source.getBytes(offset, deviceView, 0, length);
        return CUDA_SUCCESS;
    }

    /** Emulated kernels print as they run: a copy brings nothing out (printfSink is not used). */
    public int copyDeviceToHost(
        final long streamHandle,
        final long deviceAddress,
        final long bytes,
        final int maxChunkBytes,
        final DeviceDataSink sink,
        final Consumer<String> printfSink)
    {
        if (!isStream(streamHandle))
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final long host = hostAddress(deviceAddress, bytes);
        if (host == 0 || bytes < 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        for (long offset = 0; offset < bytes; offset += maxChunkBytes)
        {
            final int length = (int)Math.min(maxChunkBytes, bytes - offset);
            if (!sink.onData(offset, host + offset, length))
            {
                return CUDA_ERROR_UNKNOWN;
            }
        }
        return CUDA_SUCCESS;
    }

    public int copyDeviceToDevice(
        final long streamHandle, final long dstDeviceAddress, final long srcDeviceAddress, final long bytes)
    {
        if (!isStream(streamHandle))
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final long dst = hostAddress(dstDeviceAddress, bytes);
        final long src = hostAddress(srcDeviceAddress, bytes);
        if (dst == 0 || src == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        UnsafeApi.copyMemory(src, dst, bytes);
        return CUDA_SUCCESS;
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
        if (!isStream(streamHandle))
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final long span = TenantMemory.span(width, elementSize, height, pitch);
        if ((elementSize != 1 && elementSize != 2 && elementSize != 4) || span < 0 || deviceAddress % elementSize != 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final long rowBytes = width * elementSize;
        final long host = hostAddress(deviceAddress, span);
        if (host == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        for (long row = 0; row < height; row++)
        {
            fill(host + row * pitch, rowBytes, value, elementSize);
        }
        return CUDA_SUCCESS;
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
        streamContexts.entrySet().removeIf(entry -> entry.getValue() == contextHandle);
        return CUDA_SUCCESS;
    }

    public int streamCreate(final long streamHandle, final long contextHandle, final int flags, final int priority)
    {
        if (!contexts.contains(contextHandle))
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        if (streamHandle == 0 || streamContexts.containsKey(streamHandle))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        streamContexts.put(streamHandle, contextHandle);
        return CUDA_SUCCESS;
    }

    public int streamDestroy(final long streamHandle)
    {
        return streamHandle != 0 && streamContexts.remove(streamHandle) != NO_CONTEXT ?
            CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
    }

    public int streamWaitEvent(final long streamHandle, final long eventHandle)
    {
        return isStream(streamHandle) && events.containsKey(eventHandle) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
    }

    /** Emulated kernels print as they run (see launchKernel): a synchronisation brings nothing out. */
    public int synchronize(final SyncKind kind, final long handle, final Consumer<String> printfSink)
    {
        return switch (kind)
        {
            case CONTEXT_SYNCHRONIZE -> contexts.contains(handle) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
            case STREAM_SYNCHRONIZE, STREAM_QUERY -> isStream(handle) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
            case EVENT_SYNCHRONIZE, EVENT_QUERY -> events.containsKey(handle) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
            case NULL_VAL -> CUDA_ERROR_INVALID_VALUE;
        };
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
        events.put(eventHandle, new EventState(flags));
        return CUDA_SUCCESS;
    }

    public int eventRecord(final long eventHandle, final long streamHandle)
    {
        final EventState event = events.get(eventHandle);
        if (event == null || !isStream(streamHandle))
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        event.recordedAtNs = System.nanoTime();
        event.recorded = true;
        return CUDA_SUCCESS;
    }

    public int eventDestroy(final long eventHandle)
    {
        return events.remove(eventHandle) != null ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
    }

    public int eventElapsedTime(final long startEventHandle, final long endEventHandle, final CallResult result)
    {
        final EventState start = events.get(startEventHandle);
        final EventState end = events.get(endEventHandle);
        if (start == null || end == null || !start.recorded || !end.recorded ||
            (start.flags & CU_EVENT_DISABLE_TIMING) != 0 || (end.flags & CU_EVENT_DISABLE_TIMING) != 0)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final float milliseconds = (end.recordedAtNs - start.recordedAtNs) / 1_000_000.0f;
        result.value1 = Float.floatToRawIntBits(milliseconds);
        return CUDA_SUCCESS;
    }

    public int moduleLoad(final long moduleHandle, final long contextHandle, final byte[] image, final CallResult result)
    {
        if (!contexts.contains(contextHandle))
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        if (modules.containsKey(moduleHandle))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final long heldBefore = memory.usedBytes();
        try
        {
            modules.put(moduleHandle, Emulator.load(image, memory));
            // The emulator keeps the module's globals in the tenant's memory: they count against the slice.
            tenant.moduleLoaded(moduleHandle, memory.usedBytes() - heldBefore);
            return CUDA_SUCCESS;
        }
        catch (final EmulatorException ex)
        {
            result.message = ex.getMessage();
            return ex.cudaError();
        }
    }

    public int moduleUnload(final long moduleHandle)
    {
        final EmulatedModule module = modules.remove(moduleHandle);
        if (module == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        functionModules.entrySet().removeIf(entry ->
        {
            if (entry.getValue() == moduleHandle)
            {
                functions.remove(entry.getKey());
                dynamicSharedLimits.remove(entry.getKey());
                carveouts.remove(entry.getKey());
                return true;
            }
            return false;
        });
        module.unload();
        tenant.moduleUnloaded(moduleHandle);
        return CUDA_SUCCESS;
    }

    public int moduleGetFunction(
        final long moduleHandle, final long functionHandle, final String name, final ParameterLayout layout)
    {
        final EmulatedModule module = modules.get(moduleHandle);
        if (module == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final EmulatedFunction function = module.function(name);
        if (function == null)
        {
            return CUDA_ERROR_NOT_FOUND;
        }
        functions.put(functionHandle, function);
        functionModules.put(functionHandle, moduleHandle);

        layout.reset(function.parameterCount());
        layout.bufferSize = function.parameterBufferSize();
        for (int i = 0; i < layout.count; i++)
        {
            layout.offsets[i] = function.parameterOffset(i);
            layout.sizes[i] = function.parameterSize(i);
        }
        return CUDA_SUCCESS;
    }

    public int moduleGetGlobal(final long moduleHandle, final String name, final CallResult result)
    {
        final EmulatedModule module = modules.get(moduleHandle);
        if (module == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final GlobalSymbol global = module.global(name);
        if (global == null)
        {
            return CUDA_ERROR_NOT_FOUND;
        }
        tenant.addGlobal(moduleHandle, global.deviceAddress(), global.sizeBytes());
        result.value1 = global.deviceAddress();
        result.value2 = global.sizeBytes();
        return CUDA_SUCCESS;
    }

    /** Thread block clusters came with compute capability 9.0: the emulated GPU (8.0) has none. */
    public int clusterOccupancy(
        final long functionHandle, final int query, final int[] grid, final int[] block, final int sharedMemBytes,
        final int[] cluster, final CallResult result)
    {
        if (!functions.containsKey(functionHandle))
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        result.message = "thread block clusters need a GPU of compute capability 9.0 or later; the emulated GPU is 8.0";
        return CUDA_ERROR_NOT_SUPPORTED;
    }

    /** Tensor maps feed Hopper's TMA units: a compute capability 8.0 GPU has none. */
    public int tensorMapEncode(
        final TensorMapArgumentsDecoder arguments, final MutableDirectBuffer tensorMap, final CallResult result)
    {
        result.message = "tensor maps need a GPU of compute capability 9.0 or later; the emulated GPU is 8.0";
        return CUDA_ERROR_NOT_SUPPORTED;
    }

    /**
     * The emulated GPU's context limits start at a real driver's defaults. Its threads have no fixed stack,
     * FIFO or heap, so any size set is honoured; the CIG limits (7, 8) can only be read, as on a GPU.
     */
    public int contextLimit(final int limit, final boolean set, final long value, final CallResult result)
    {
        if (limit < 0 || limit >= contextLimits.length)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (set)
        {
            if (limit == CU_LIMIT_SHMEM_SIZE || limit == CU_LIMIT_CIG_ENABLED)
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            if (value < 0 || (limit == CU_LIMIT_MAX_L2_FETCH_GRANULARITY && value > 128))
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            contextLimits[limit] = value;
        }
        result.value1 = contextLimits[limit];
        return CUDA_SUCCESS;
    }

    public int functionGetAttribute(final long functionHandle, final int attribute, final CallResult result)
    {
        final EmulatedFunction function = functions.get(functionHandle);
        if (function == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final long set = switch (attribute)
        {
            case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES -> dynamicSharedLimits.get(functionHandle);
            case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT -> carveouts.get(functionHandle);
            default -> NOT_SET;
        };
        final int value = set != NOT_SET ? (int)set : function.attribute(attribute);
        if (value == Integer.MIN_VALUE)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        result.value1 = value;
        return CUDA_SUCCESS;
    }

    /**
     * The emulated GPU gives every block 48 KiB of shared memory and no more: a dynamic limit within it
     * (less the kernel's static shared memory) is accepted and holds for the kernel's later launches, an
     * opt-in past it is invalid, as on a device whose opt-in maximum is 48 KiB. The carve-out preference is
     * a hint, remembered so that it reads back.
     */
    public int functionSetAttribute(final long functionHandle, final int attribute, final int value)
    {
        final EmulatedFunction function = functions.get(functionHandle);
        if (function == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        switch (attribute)
        {
            case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES:
                if (value < 0 || value > function.attribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES))
                {
                    return CUDA_ERROR_INVALID_VALUE;
                }
                dynamicSharedLimits.put(functionHandle, value);
                return CUDA_SUCCESS;
            case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
                if (value < -1 || value > 100)
                {
                    return CUDA_ERROR_INVALID_VALUE;
                }
                carveouts.put(functionHandle, value);
                return CUDA_SUCCESS;
            default:
                return CUDA_ERROR_NOT_SUPPORTED;
        }
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
        final EmulatedFunction function = functions.get(functionHandle);
        if (function == null || !isStream(streamHandle))
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if (clusterX * clusterY * clusterZ > 1)
        {
            // A compute capability 8.0 GPU has no thread block clusters (they came with 9.0).
            return CUDA_ERROR_NOT_SUPPORTED;
        }
        final long dynamicSharedLimit = dynamicSharedLimits.get(functionHandle);
        if (parametersLength < function.parameterBufferSize() ||
            (dynamicSharedLimit != NOT_SET && sharedMemBytes > dynamicSharedLimit))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        return function.launch(
            gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes, parameters, parametersOffset, printfSink);
    }

    public void close()
    {
        for (final EmulatedModule module : modules.values())
        {
            module.unload();
        }
        modules.clear();
        functions.clear();
        dynamicSharedLimits.clear();
        carveouts.clear();
        memory.close();
        tenant.clear();
    }

    /**
     * @return the host memory behind a device range the tenant may name, or 0 when it may not.
     */
    private long hostAddress(final long deviceAddress, final long bytes)
    {
        return tenant.contains(deviceAddress, bytes) ? memory.hostAddress(deviceAddress, bytes) : 0;
    }

    private boolean isStream(final long streamHandle)
    {
        return streamHandle == 0 || streamContexts.containsKey(streamHandle);
    }

    private static void fill(final long address, final long bytes, final int value, final int elementSize)
    {
        if (bytes == 0)
        {
            return;
        }
        if (elementSize == 1)
        {
            UnsafeApi.setMemory(address, bytes, (byte)value);
            return;
        }

        // Write one pattern element, then double the filled prefix with bulk copies: O(log n) copy calls.
        if (elementSize == 2)
        {
            UnsafeApi.putShort(address, (short)value);
        }
        else
        {
            UnsafeApi.putInt(address, value);
        }
        long filled = elementSize;
        while (filled < bytes)
        {
            final long chunk = Math.min(filled, bytes - filled);
            UnsafeApi.copyMemory(address, address + filled, chunk);
            filled += chunk;
        }
    }
}
