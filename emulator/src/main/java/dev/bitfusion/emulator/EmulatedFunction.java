package dev.bitfusion.emulator;

import org.agrona.DirectBuffer;

import java.util.function.Consumer;

/**
 * A kernel entry of a loaded module: its parameter layout, attributes, and launch.
 * <p>
 * Thread safety: launches of one function may run concurrently from different sessions only if each
 * passes its own buffers; the layout accessors are immutable.
 */
public interface EmulatedFunction
{
    /**
     * @return the entry's mangled name.
     */
    String name();

    /**
     * @return how many {@code .param} declarations the entry has.
     */
    int parameterCount();

    /**
     * @param index parameter index.
     * @return byte offset of the parameter in the packed parameter buffer (its declared alignment applied).
     */
    int parameterOffset(int index);

    /**
     * @param index parameter index.
     * @return size in bytes of the parameter.
     */
    int parameterSize(int index);

    /**
     * @return total size of the packed parameter buffer.
     */
    int parameterBufferSize();

    /**
     * @param attribute a CUfunction_attribute value (0 = MAX_THREADS_PER_BLOCK, 1 = SHARED_SIZE_BYTES,
     *                  2 = CONST_SIZE_BYTES, 3 = LOCAL_SIZE_BYTES, 4 = NUM_REGS, 5 = PTX_VERSION,
     *                  6 = BINARY_VERSION, 7 = CACHE_MODE_CA, 8 = MAX_DYNAMIC_SHARED_SIZE_BYTES...).
     * @return the attribute's value, or {@link Integer#MIN_VALUE} when the attribute is not known.
     */
    int attribute(int attribute);

    /**
     * @return how many instructions launches of this kernel have executed so far (for benchmarks and
     * counters); 0 where not counted.
     */
    default long instructionsExecuted()
    {
        return 0;
    }

    /**
     * Run the kernel to completion.
     *
     * @param gridX          blocks in x.
     * @param gridY          blocks in y.
     * @param gridZ          blocks in z.
     * @param blockX         threads per block in x.
     * @param blockY         threads per block in y.
     * @param blockZ         threads per block in z.
     * @param sharedMemBytes dynamic shared memory per block.
     * @param parameters     the packed parameter buffer, laid out as {@link #parameterOffset(int)} says.
     * @param parametersOffset where the packed parameters start in {@code parameters}.
     * @param printfSink     receives each device printf's formatted output.
     * @return a CUresult: 0 on success, 700 (ILLEGAL_ADDRESS) on a bad access, 719 (LAUNCH_FAILED) on trap,
     * 1 (INVALID_VALUE) or 701 (LAUNCH_OUT_OF_RESOURCES) for an invalid configuration.
     */
    int launch(
        int gridX, int gridY, int gridZ,
        int blockX, int blockY, int blockZ,
        int sharedMemBytes,
        DirectBuffer parameters, int parametersOffset,
        Consumer<String> printfSink);
}
