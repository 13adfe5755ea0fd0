package dev.bitfusion.agent.driver;

/**
 * The occupancy calculation: how many blocks of a kernel can be resident on one multiprocessor at once,
 * limited by threads (in whole warps), the block slots, shared memory and registers, with the allocation
 * units the driver uses from compute capability 7.0 on: registers are given to a warp 256 at a time, shared
 * memory to a block 128 bytes at a time plus the bytes the system reserves per block (1 KiB from 8.0 on).
 * <p>
 * Thread safety: stateless.
 */
final class OccupancyCalculator
{
    private static final int REGISTER_ALLOCATION_UNIT = 256;
    private static final int SHARED_ALLOCATION_UNIT = 128;

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
        final int reservedSharedBytesPerBlock,
        final int registersPerMultiprocessor)
    {
        if (blockSize > kernelMaxThreadsPerBlock)
        {
            return 0;
        }
        final int threadsInWarps = (blockSize + warpSize - 1) / warpSize * warpSize;
        long blocks = Math.min(maxBlocksPerMultiprocessor, maxThreadsPerMultiprocessor / threadsInWarps);

        final long sharedPerBlock = roundUp(kernelStaticSharedBytes + dynamicSharedBytes, SHARED_ALLOCATION_UNIT) +
            reservedSharedBytesPerBlock;
        if (sharedPerBlock > 0)
        {
            blocks = Math.min(blocks, sharedBytesPerMultiprocessor / sharedPerBlock);
        }
        final long registersPerWarp = roundUp((long)Math.max(1, kernelRegistersPerThread) * warpSize,
            REGISTER_ALLOCATION_UNIT);
        blocks = Math.min(blocks, registersPerMultiprocessor / (registersPerWarp * (threadsInWarps / warpSize)));
        return (int)Math.max(0, blocks);
    }

    private static long roundUp(final long value, final int unit)
    {
        return (value + unit - 1) / unit * unit;
    }
}
