package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.CallSlot;
import dev.bitfusion.agent.wire.ServerSession;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * What a function is and how it runs: its attributes (answered here after the first ask, see
 * {@link FunctionAttributes}), its name, module and parameters as it was looked up, and occupancy. Kernels
 * of libraries are the functions of their modules here: the same calls serve cuKernel*.
 * <p>
 * Thread safety: thread safe.
 */
public final class FunctionCalls
{
    private static final int CU_FUNCTION_LOADING_STATE_LOADED = 1;
    private static final int CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0;
    private static final int CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1;
    private static final int CU_FUNC_ATTRIBUTE_NUM_REGS = 4;
    private static final int CU_DEVICE_ATTRIBUTE_WARP_SIZE = 10;
    private static final int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR = 39;
    private static final int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR = 81;
    private static final int CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR = 82;
    private static final int CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR = 106;
    private static final int CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK = 111;
    private static final int MAX_ACTIVE_CLUSTERS = 0;
    private static final int MAX_POTENTIAL_CLUSTER_SIZE = 1;

    private final Sessions sessions;
    private final ContextState contexts;
    private final KernelTable kernels;
    private final DeviceCalls devices;
    private final Diagnostics diagnostics;
    private final ThreadLocal<LaunchConfig> configs = ThreadLocal.withInitial(LaunchConfig::new);

    FunctionCalls(
        final Sessions sessions, final ContextState contexts, final KernelTable kernels, final DeviceCalls devices,
        final Diagnostics diagnostics)
    {
        this.sessions = sessions;
        this.contexts = contexts;
        this.kernels = kernels;
        this.devices = devices;
        this.diagnostics = diagnostics;
    }

    /**
     * Answered from what the server said before when nothing was set since: occupancy calculations and
     * cudaFuncGetAttributes ask for several attributes on every call.
     */
    public int cuFuncGetAttribute(final long pi, final int attrib, final long hfunc)
    {
        if (pi == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final long answer = attribute(attrib, hfunc);
        if (statusOf(answer) == CUDA_SUCCESS)
        {
            NativeMemory.putInt(pi, valueOf(answer));
        }
        return statusOf(answer);
    }

    /**
     * A kernel's attributes are the same on every GPU of a slice's model: answered as the function's.
     */
    public int cuKernelGetAttribute(final long pi, final int attrib, final long kernel, final int dev)
    {
        return cuFuncGetAttribute(pi, attrib, kernel);
    }

    /**
     * Settable attributes (the dynamic shared memory limit, the carve-out preference) change how the kernel's
     * later launches run on the server, so the server answers whether it can honour them; setting again the
     * value this client last set needs no round trip. They belong to the kernel on every GPU.
     */
    public int cuFuncSetAttribute(final long hfunc, final int attrib, final int value)
    {
        final KernelLayout layout = kernels.layoutOf(hfunc);
        if (layout != null && layout.attributes().isAlreadySet(attrib, value))
        {
            return CUDA_SUCCESS;
        }
        return kernels.setEverywhere(hfunc, attrib, value);
    }

    public int cuKernelSetAttribute(final int attrib, final int val, final long kernel, final int dev)
    {
        return cuFuncSetAttribute(kernel, attrib, val);
    }

    /**
     * A preference the GPU may ignore, as it may on a real driver: accepted, not forwarded.
     */
    public int cuFuncSetCacheConfig(final long hfunc, final int config)
    {
        return kernels.layoutOf(hfunc) == null ? CUDA_ERROR_INVALID_HANDLE : CUDA_SUCCESS;
    }

    /**
     * Also cuKernelGetName: the name the function was looked up by, kept as long as the process.
     */
    public int cuFuncGetName(final long name, final long hfunc)
    {
        if (name == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final KernelTable.FunctionName known = kernels.nameOf(hfunc);
        if (known == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        NativeMemory.putLong(name, NativeMemory.keptCString(known.name()));
        return CUDA_SUCCESS;
    }

    /**
     * Also cuKernelGetLibrary: the module or library the function was looked up in.
     */
    public int cuFuncGetModule(final long hmod, final long hfunc)
    {
        if (hmod == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final KernelTable.FunctionName known = kernels.nameOf(hfunc);
        if (known == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        NativeMemory.putLong(hmod, known.module());
        return CUDA_SUCCESS;
    }

    /**
     * Also cuKernelGetParamInfo: where a parameter lies in the kernel's parameter buffer, and its size.
     */
    public int cuFuncGetParamInfo(final long func, final long paramIndex, final long paramOffset, final long paramSize)
    {
        final KernelLayout layout = kernels.layoutOf(func);
        if (layout == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if (paramIndex < 0 || paramIndex >= layout.sizes().length)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        NativeMemory.putLongIfWanted(paramOffset, layout.offsets()[(int)paramIndex]);
        NativeMemory.putLongIfWanted(paramSize, layout.sizes()[(int)paramIndex]);
        return CUDA_SUCCESS;
    }

    /**
     * A function is loaded on the server when it is looked up: there is nothing left to load lazily.
     */
    public int cuFuncIsLoaded(final long state, final long function)
    {
        if (state == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (kernels.nameOf(function) == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        NativeMemory.putInt(state, CU_FUNCTION_LOADING_STATE_LOADED);
        return CUDA_SUCCESS;
    }

    public int cuFuncLoad(final long function)
    {
        return kernels.nameOf(function) == null ? CUDA_ERROR_INVALID_HANDLE : CUDA_SUCCESS;
    }

    public int cuOccupancyMaxActiveBlocksPerMultiprocessor(
        final long numBlocks, final long func, final int blockSize, final long dynamicSMemSize)
    {
        return cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(numBlocks, func, blockSize, dynamicSMemSize, 0);
    }

    /**
     * How many blocks of a kernel fit on one multiprocessor, from the kernel's attributes (registers, static
     * shared memory, its thread limit) and the device's per-multiprocessor limits, as the driver's occupancy
     * calculator computes it ({@link OccupancyCalculator}); answered here, the attributes being known.
     */
    public int cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(
        final long numBlocks, final long func, final int blockSize, final long dynamicSMemSize, final int flags)
    {
        if (numBlocks == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int device = contexts.currentDevice();
        if (device < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final long maxThreads = attribute(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, func);
        final long staticShared = attribute(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, func);
        final long registers = attribute(CU_FUNC_ATTRIBUTE_NUM_REGS, func);
        for (final long answer : new long[] {maxThreads, staticShared, registers})
        {
            if (statusOf(answer) != CUDA_SUCCESS)
            {
                return statusOf(answer);
            }
        }
        final int warpSize = devices.attribute(device, CU_DEVICE_ATTRIBUTE_WARP_SIZE);
        final int threadsPerMultiprocessor = devices.attribute(device, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR);
        final int blocksPerMultiprocessor = devices.attribute(device, CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR);
        final int sharedPerMultiprocessor = devices.attribute(device, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR);
        final int registersPerMultiprocessor = devices.attribute(device, CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR);
        // RESERVED_SHARED_MEMORY_PER_BLOCK came with CUDA 11: a device that does not report it reserves none.
        final int reservedShared = Math.max(0, devices.attribute(device, CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK));
        if (blockSize <= 0 || dynamicSMemSize < 0 || warpSize <= 0 || threadsPerMultiprocessor <= 0 ||
            blocksPerMultiprocessor <= 0 || sharedPerMultiprocessor < 0 || registersPerMultiprocessor <= 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        NativeMemory.putInt(numBlocks, OccupancyCalculator.blocksPerMultiprocessor(
            blockSize, dynamicSMemSize, valueOf(maxThreads), valueOf(staticShared), valueOf(registers),
            warpSize, threadsPerMultiprocessor, blocksPerMultiprocessor, sharedPerMultiprocessor, reservedShared,
            registersPerMultiprocessor));
        return CUDA_SUCCESS;
    }

    /**
     * Cluster placement depends on the GPU's layout, which only its driver knows: the launch's shape and
     * cluster travel to the server.
     */
    public int cuOccupancyMaxActiveClusters(final long numClusters, final long func, final long config)
    {
        return clusterOccupancy(numClusters, MAX_ACTIVE_CLUSTERS, func, config);
    }

    public int cuOccupancyMaxPotentialClusterSize(final long clusterSize, final long func, final long config)
    {
        return clusterOccupancy(clusterSize, MAX_POTENTIAL_CLUSTER_SIZE, func, config);
    }

    private int clusterOccupancy(final long out, final int query, final long function, final long configAddress)
    {
        final LaunchConfig config = configs.get().wrap(configAddress);
        if (out == 0 || !config.isValid())
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final ServerSession session = sessions.ofHandle(function);
        if (session == null || kernels.layoutOf(function) == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final int[] cluster = new int[3];
        config.cluster(cluster);
        final CallSlot slot = session.slot();
        final int status = session.await(slot, session.proxy().clusterOccupancy(slot, function, query,
            config.grid(0), config.grid(1), config.grid(2), config.block(0), config.block(1), config.block(2),
            config.sharedMemBytes(), cluster[0], cluster[1], cluster[2]));
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putInt(out, (int)slot.value1());
        }
        else if (slot.message() != null)
        {
            diagnostics.failed(slot.message());
        }
        return status;
    }

    /**
     * @return the attribute's CUresult in the high half and, on success, its value in the low half.
     */
    private long attribute(final int attribute, final long function)
    {
        final ServerSession session = sessions.ofHandle(function);
        final KernelLayout layout = kernels.layoutOf(function);
        if (session == null || layout == null)
        {
            return answer(CUDA_ERROR_INVALID_HANDLE, 0);
        }
        final FunctionAttributes known = layout.attributes();
        final int cached = known.answer(attribute);
        if (cached != FunctionAttributes.UNKNOWN)
        {
            return answer(CUDA_SUCCESS, cached);
        }
        final int generation = known.generation();
        final CallSlot slot = session.slot();
        final int status = session.await(slot, session.proxy().functionGetAttribute(slot, function, attribute));
        if (status == CUDA_SUCCESS)
        {
            known.remember(attribute, (int)slot.value1(), generation);
        }
        return answer(status, (int)slot.value1());
    }

    private static long answer(final int status, final int value)
    {
        return ((long)status << Integer.SIZE) | (value & 0xffff_ffffL);
    }

    private static int statusOf(final long answer)
    {
        return (int)(answer >>> Integer.SIZE);
    }

    private static int valueOf(final long answer)
    {
        return (int)answer;
    }
}
