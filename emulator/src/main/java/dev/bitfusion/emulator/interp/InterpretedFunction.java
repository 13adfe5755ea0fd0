package dev.bitfusion.emulator.interp;

import dev.bitfusion.emulator.EmulatedFunction;
import dev.bitfusion.emulator.memory.DeviceMemory;
import org.agrona.DirectBuffer;
import org.agrona.UnsafeApi;

import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_INVALID_VALUE;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;

/**
 * A kernel of a loaded module, launched by interpreting its decoded instructions, blocks spread over the
 * host's cores.
 * <p>
 * Thread safety: launches may run concurrently; each has its own buffers.
 */
public final class InterpretedFunction implements EmulatedFunction
{
    private static final int MAX_THREADS_PER_BLOCK = 1024;
    private static final int MAX_SHARED_BYTES = 48 * 1024;
    private static final int CALL_STACK_BYTES = 16 * 1024;
    private static final int PTX_VERSION = 5;
    private static final int BINARY_VERSION = 6;

    private final CompiledFunction entry;
    private final DeviceMemory memory;
    private final int[] parameterOffsets;
    private final int[] parameterSizes;
    private final int parameterBufferSize;
    private final int ptxVersion;
    private final int binaryVersion;
    private final int stackBytes;
    private final AtomicLong instructions = new AtomicLong();

    InterpretedFunction(
        final CompiledFunction entry,
        final DeviceMemory memory,
        final int[] parameterOffsets,
        final int[] parameterSizes,
        final int ptxVersion,
        final int binaryVersion,
        final int largestFrame)
    {
        this.entry = entry;
        this.memory = memory;
        this.parameterOffsets = parameterOffsets;
        this.parameterSizes = parameterSizes;
        int size = 0;
        for (int i = 0; i < parameterOffsets.length; i++)
        {
            size = Math.max(size, parameterOffsets[i] + parameterSizes[i]);
        }
        this.parameterBufferSize = size;
        this.ptxVersion = ptxVersion;
        this.binaryVersion = binaryVersion;
        this.stackBytes = entry.frameSize + (entry.calls ? CALL_STACK_BYTES + 8 * largestFrame : 0) + 16;
    }

    public String name()
    {
        return entry.name;
    }

    public int parameterCount()
    {
        return parameterOffsets.length;
    }

    public int parameterOffset(final int index)
    {
        return parameterOffsets[index];
    }

    public int parameterSize(final int index)
    {
        return parameterSizes[index];
    }

    public int parameterBufferSize()
    {
        return parameterBufferSize;
    }

    /**
     * @return instructions interpreted by all launches of this kernel so far.
     */
    public long instructionsExecuted()
    {
        return instructions.get();
    }

    public int attribute(final int attribute)
    {
        return switch (attribute)
        {
            case 0 -> entry.maxThreads > 0 ? Math.min(entry.maxThreads, MAX_THREADS_PER_BLOCK) : MAX_THREADS_PER_BLOCK;
            case 1 -> entry.staticSharedBytes;
            case 2 -> 0;
            case 3 -> entry.localBytes;
            case 4 -> Math.max(8, Math.min(255, entry.declaredRegisters));
            case PTX_VERSION -> ptxVersion;
            case BINARY_VERSION -> binaryVersion;
            case 7 -> 0;
            case 8 -> MAX_SHARED_BYTES - entry.staticSharedBytes;
            case 9 -> -1;
            default -> Integer.MIN_VALUE;
        };
    }

    public int launch(
        final int gridX, final int gridY, final int gridZ,
        final int blockX, final int blockY, final int blockZ,
        final int sharedMemBytes,
        final DirectBuffer parameters, final int parametersOffset,
        final Consumer<String> printfSink)
    {
        final long threadsPerBlock = (long)blockX * blockY * blockZ;
        final int maxThreads = attribute(0);
        if (gridX <= 0 || gridY <= 0 || gridZ <= 0 || blockX <= 0 || blockY <= 0 || blockZ <= 0 ||
            gridY > 65535 || gridZ > 65535 || blockX > 1024 || blockY > 1024 || blockZ > 64 ||
            threadsPerBlock > MAX_THREADS_PER_BLOCK || sharedMemBytes < 0 ||
            (long)entry.staticSharedBytes + sharedMemBytes > MAX_SHARED_BYTES)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (threadsPerBlock > maxThreads)
        {
            return CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES;
        }
        if (parameterBufferSize > 0 && (parameters == null || parametersOffset < 0 ||
            parametersOffset + parameterBufferSize > parameters.capacity()))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }

        final LaunchContext launch = new LaunchContext();
        launch.gridX = gridX;
        launch.gridY = gridY;
        launch.gridZ = gridZ;
        launch.blockX = blockX;
        launch.blockY = blockY;
        launch.blockZ = blockZ;
        launch.dynamicSharedBytes = sharedMemBytes;
        launch.dynamicSharedBase = align16(entry.staticSharedBytes);
        launch.sharedBytes = align16(entry.staticSharedBytes) + align16(sharedMemBytes) + Op.RESERVED_SHARED_BYTES;
        launch.stackBytes = (stackBytes + 15) & ~15;
        launch.printfSink = printfSink;
        launch.parameterBytes = parameterBufferSize;
        launch.parameterHost = UnsafeApi.allocateMemory(Math.max(8, parameterBufferSize));
        try
        {
            for (int i = 0; i < parameterBufferSize; i++)
            {
                UnsafeApi.putByte(launch.parameterHost + i, parameters.getByte(parametersOffset + i));
            }
            return run(launch, (long)gridX * gridY * gridZ);
        }
        finally
        {
            UnsafeApi.freeMemory(launch.parameterHost);
        }
    }

    private int run(final LaunchContext launch, final long blocks)
    {
        final AtomicInteger nextBlock = new AtomicInteger();
        final int workers = (int)Math.min(WorkerPool.PARALLELISM, blocks);
        final Runnable work = () ->
        {
            try (BlockRunner runner = new BlockRunner(entry, launch, memory))
            {
                try
                {
                    int block;
                    while (launch.fault == null && (block = nextBlock.getAndIncrement()) < blocks)
                    {
                        runner.runBlock(block);
                    }
                }
                catch (final KernelFault fault)
                {
                    launch.fail(fault);
                }
                catch (final RuntimeException ex)
                {
                    launch.fail(new KernelFault(719, "internal emulator error: " + ex + " at " +
                        (ex.getStackTrace().length > 0 ? ex.getStackTrace()[0] : "?")));
                }
                finally
                {
                    instructions.addAndGet(runner.instructions());
                }
            }
        };
        final Future<?>[] helpers = new Future<?>[workers - 1];
        for (int i = 0; i < helpers.length; i++)
        {
            helpers[i] = WorkerPool.EXECUTOR.submit(work);
        }
        work.run();
        for (final Future<?> helper : helpers)
        {
            try
            {
                helper.get();
            }
            catch (final Exception ex)
            {
                launch.fail(new KernelFault(719, "emulator worker failed: " + ex));
            }
        }
        final KernelFault fault = launch.fault;
        if (fault != null)
        {
            lastFaultMessage = fault.getMessage();
            return fault.cudaError;
        }
        return 0;
    }

    private volatile String lastFaultMessage;


    /**
     * @return what the last failed launch of this kernel faulted on, or null.
     */
    public String lastFaultMessage()
    {
        return lastFaultMessage;
    }

    private static int align16(final int value)
    {
        return (value + 15) & ~15;
    }
}
