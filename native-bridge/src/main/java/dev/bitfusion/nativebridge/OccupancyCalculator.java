package dev.bitfusion.nativebridge;

/**
 * The occupancy calculation: how many blocks of a kernel can be resident on one multiprocessor at once,
 * limited by threads (in whole warps), the block slots, shared memory and registers.
 * <p>
 * Thread safety: stateless.
 */
final class OccupancyCalculator
{
    private OccupancyCalculator()
    {
    }

    /**
     * @return the blocks that fit, 0 when one block already exceeds a limit.
     */
    static int blocksPerMultiprocessor(
        final int blockSize,
        final long dynamicSharedBytes,
        final int kernelMaxThreadsPerBlock,
        final int kernelStaticSharedBytes,
        final int kernelRegistersPerThread,
        final int warpSize,
        final int maxThreadsPerMultiprocessor,
        final int maxBlocksPerMultiprocessor,
        final int sharedBytesPerMultiprocessor,
        final int registersPerMultiprocessor)
    {
        if (blockSize > kernelMaxThreadsPerBlock)
        {
            return 0;
        }
        final int threadsInWarps = (blockSize + warpSize - 1) / warpSize * warpSize;
        long blocks = Math.min(maxBlocksPerMultiprocessor, maxThreadsPerMultiprocessor / threadsInWarps);

        final long sharedPerBlock = kernelStaticSharedBytes + dynamicSharedBytes;
        if (sharedPerBlock > 0)
        {
            blocks = Math.min(blocks, sharedBytesPerMultiprocessor / sharedPerBlock);
        }
        final long registersPerBlock = (long)Math.max(1, kernelRegistersPerThread) * threadsInWarps;
        blocks = Math.min(blocks, registersPerMultiprocessor / registersPerBlock);
        return (int)Math.max(0, blocks);
    }
}
