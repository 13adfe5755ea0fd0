package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.CallSlot;
import dev.bitfusion.agent.wire.ServerSession;
import dev.bitfusion.agent.wire.SessionProxy;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Kernel launches: asynchronous, their parameters packed at the offsets the kernel's layout gives, straight
 * into the request. Host writes to mapped host memory reach the GPU before any kernel that may read them,
 * and parameters holding a host address of mapped memory get its device copy's.
 * <p>
 * Cluster dimensions travel to the GPU: kernels built for a cluster shape (CUTLASS's Hopper GEMMs) are wrong
 * without it. Launch attributes that only tune scheduling (priorities, programmatic serialisation, L2
 * windows, carve-outs, preferred clusters) can be left out without changing any result. Those that would
 * change what the program observes and that the server cannot give (cooperative grids, events fired from
 * inside a launch, graph-only nodes) are refused, named once.
 * <p>
 * Thread safety: thread safe; no allocation, lock or logging on the launch path.
 */
public final class LaunchCalls
{
    private static final long CU_LAUNCH_PARAM_END = 0x00;
    private static final long CU_LAUNCH_PARAM_BUFFER_POINTER = 0x01;
    private static final long CU_LAUNCH_PARAM_BUFFER_SIZE = 0x02;

    private final Sessions sessions;
    private final StreamTable streams;
    private final ModuleCalls modules;
    private final KernelTable kernels;
    private final MappedMemory mapped;
    private final Diagnostics diagnostics;
    private final ThreadLocal<LaunchScratch> scratch = ThreadLocal.withInitial(LaunchScratch::new);

    /** A thread's reusable view of a launch config and its parameters, so launching allocates nothing. */
    private static final class LaunchScratch
    {
        final LaunchConfig config = new LaunchConfig();
        final int[] cluster = new int[3];
        final UnsafeBuffer argument = new UnsafeBuffer(0, 0);
        long packed;
        long packedBytes;
    }

    LaunchCalls(
        final Sessions sessions, final StreamTable streams, final ModuleCalls modules, final KernelTable kernels,
        final MappedMemory mapped, final Diagnostics diagnostics)
    {
        this.sessions = sessions;
        this.streams = streams;
        this.modules = modules;
        this.kernels = kernels;
        this.mapped = mapped;
        this.diagnostics = diagnostics;
    }

    /**
     * @param kernelParams the address of an array of pointers, one per parameter, or 0.
     * @param extra        the address of a CU_LAUNCH_PARAM_* list giving the parameters packed, or 0.
     */
    public int cuLaunchKernel(
        final long f,
        final int gridDimX, final int gridDimY, final int gridDimZ,
        final int blockDimX, final int blockDimY, final int blockDimZ,
        final int sharedMemBytes, final long hStream, final long kernelParams, final long extra)
    {
        final LaunchScratch launch = scratch.get();
        final int read = readParameters(launch, kernelParams, extra);
        if (read != CUDA_SUCCESS)
        {
            return read;
        }
        return launch(f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, sharedMemBytes, hStream,
            0, 0, 0, kernelParams, launch);
    }

    /**
     * @param config the address of a CUlaunchConfig.
     */
    public int cuLaunchKernelEx(final long config, final long f, final long kernelParams, final long extra)
    {
        final LaunchScratch launch = scratch.get();
        final LaunchConfig launchConfig = launch.config.wrap(config);
        if (!launchConfig.isValid())
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int read = readParameters(launch, kernelParams, extra);
        if (read != CUDA_SUCCESS)
        {
            return read;
        }
        final int[] cluster = launch.cluster;
        cluster[0] = 0;
        cluster[1] = 0;
        cluster[2] = 0;
        for (int i = 0; i < launchConfig.attributeCount(); i++)
        {
            switch (launchConfig.attributeId(i))
            {
                case LaunchConfig.CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION:
                    cluster[0] = launchConfig.attributeValue(i, 0);
                    cluster[1] = launchConfig.attributeValue(i, 1);
                    cluster[2] = launchConfig.attributeValue(i, 2);
                    if (cluster[0] == 0 || cluster[1] == 0 || cluster[2] == 0)
                    {
                        return CUDA_ERROR_INVALID_VALUE;
                    }
                    break;
                case LaunchConfig.CU_LAUNCH_ATTRIBUTE_COOPERATIVE:
                    if (launchConfig.attributeValue(i, 0) != 0)
                    {
                        return diagnostics.unsupported("cuLaunchKernelEx with CU_LAUNCH_ATTRIBUTE_COOPERATIVE");
                    }
                    break;
                case LaunchConfig.CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT:
                    return diagnostics.unsupported("cuLaunchKernelEx with CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT");
                case LaunchConfig.CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT:
                    return diagnostics.unsupported("cuLaunchKernelEx with CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT");
                case LaunchConfig.CU_LAUNCH_ATTRIBUTE_DEVICE_UPDATABLE_KERNEL_NODE:
                    return diagnostics.unsupported("cuLaunchKernelEx with CU_LAUNCH_ATTRIBUTE_DEVICE_UPDATABLE_KERNEL_NODE");
                default:
                    break;
            }
        }
        return launch(f, launchConfig.grid(0), launchConfig.grid(1), launchConfig.grid(2),
            launchConfig.block(0), launchConfig.block(1), launchConfig.block(2), launchConfig.sharedMemBytes(),
            launchConfig.stream(), cluster[0], cluster[1], cluster[2], kernelParams, launch);
    }

    /** The parameters as cuLaunchKernel takes them: a pointer per parameter, or extra's packed buffer and size. */
    private static int readParameters(final LaunchScratch launch, final long kernelParams, final long extra)
    {
        launch.packed = 0;
        launch.packedBytes = 0;
        if (extra == 0)
        {
            return CUDA_SUCCESS;
        }
        if (kernelParams != 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        long size = 0;
        for (long at = extra; NativeMemory.getLong(at) != CU_LAUNCH_PARAM_END; at += 2L * Long.BYTES)
        {
            final long key = NativeMemory.getLong(at);
            if (key == CU_LAUNCH_PARAM_BUFFER_POINTER)
            {
                launch.packed = NativeMemory.getLong(at + Long.BYTES);
            }
            else if (key == CU_LAUNCH_PARAM_BUFFER_SIZE)
            {
                size = NativeMemory.getLong(at + Long.BYTES);
            }
            else
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
        }
        if (launch.packed == 0 || size == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        launch.packedBytes = NativeMemory.getLong(size);
        return CUDA_SUCCESS;
    }

    private int launch(
        final long kernel,
        final int gridX, final int gridY, final int gridZ,
        final int blockX, final int blockY, final int blockZ,
        final int sharedMemBytes, final long stream, final int clusterX, final int clusterY, final int clusterZ,
        final long kernelParams, final LaunchScratch launch)
    {
        final int pushed = mapped.pushHostWrites();
        if (pushed != CUDA_SUCCESS)
        {
            return pushed;
        }
        final long function = modules.functionOn(kernel, streams.deviceOf(stream));
        final KernelLayout layout = kernels.layoutOf(function);
        if (layout == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final boolean hasParameters = layout.sizes().length != 0;
        if ((hasParameters && (launch.packed == 0 ? kernelParams == 0 : launch.packedBytes < layout.bufferSize())) ||
            layout.attributes().exceedsDynamicSharedLimit(sharedMemBytes))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final ServerSession session = sessions.ofHandle(function);
        final SessionProxy proxy = session.proxy();
        final CallSlot slot = session.slot();
        final MutableDirectBuffer buffer = proxy.encodeLaunch(slot, function, StreamTable.wireStream(stream),
            gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes, clusterX, clusterY, clusterZ, layout.bufferSize());
        final int parameters = SessionProxy.LAUNCH_PARAMETERS_OFFSET;
        if (launch.packed != 0)
        {
            launch.argument.wrap(launch.packed, layout.bufferSize());
            buffer.putBytes(parameters, launch.argument, 0, layout.bufferSize());
        }
        else
        {
            final int[] offsets = layout.offsets();
            final int[] sizes = layout.sizes();
            for (int i = 0; i < sizes.length; i++)
            {
                launch.argument.wrap(NativeMemory.getLong(kernelParams + (long)i * Long.BYTES), sizes[i]);
                buffer.putBytes(parameters + offsets[i], launch.argument, 0, sizes[i]);
            }
        }
        final HostMappings translations = mapped.translations();
        if (!translations.isEmpty())
        {
            translateHostAddresses(translations, buffer, parameters, layout);
        }
        return proxy.sendLaunch(slot, layout.bufferSize());
    }

    /** Pointer-sized parameters holding a host address of mapped memory get its device copy's address. */
    private static void translateHostAddresses(
        final HostMappings translations, final MutableDirectBuffer buffer, final int parameters, final KernelLayout layout)
    {
        for (int i = 0; i < layout.sizes().length; i++)
        {
            if (layout.sizes()[i] == Long.BYTES)
            {
                final int at = parameters + layout.offsets()[i];
                final long value = buffer.getLong(at, ByteOrder.LITTLE_ENDIAN);
                final long translated = translations.translate(value);
                if (translated != value)
                {
                    buffer.putLong(at, translated, ByteOrder.LITTLE_ENDIAN);
                }
            }
        }
    }
}
