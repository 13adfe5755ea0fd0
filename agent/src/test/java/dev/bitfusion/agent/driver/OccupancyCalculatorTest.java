package dev.bitfusion.agent.driver;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class OccupancyCalculatorTest
{
    private static int blocks(final int blockSize, final long dynamicShared, final int staticShared, final int registers)
    {
        // An sm_80-like multiprocessor: 2048 threads, 32 blocks, 164 KiB shared (1 KiB reserved per block),
        // 64 Ki registers.
        return OccupancyCalculator.blocksPerMultiprocessor(
            blockSize, dynamicShared, 1024, staticShared, registers, 32, 2048, 32, 164 * 1024, 1024, 65536);
    }

    @Test
    void shouldBeLimitedByThreadsForALightKernel()
    {
        assertEquals(8, blocks(256, 0, 0, 16));
        assertEquals(2, blocks(1024, 0, 0, 16));
    }

    @Test
    void shouldRoundBlocksUpToWholeWarps()
    {
        assertEquals(32, blocks(33, 0, 0, 8), "33 threads take two warps: 2048 / 64 = 32");
        assertEquals(21, blocks(65, 0, 0, 8), "65 threads take three warps: 2048 / 96 = 21");
    }

    @Test
    void shouldBeLimitedBySharedMemoryAndRegisters()
    {
        assertEquals(3, blocks(128, 32 * 1024, 16 * 1024, 16), "164 KiB / (48 + 1) KiB per block");
        assertEquals(2, blocks(256, 0, 0, 128), "65536 / (128 * 256)");
    }

    @Test
    void shouldCountTheDriversAllocationUnits()
    {
        assertEquals(3, blocks(128, 40 * 1024 + 1, 0, 16),
            "40 KiB and a byte take 40 KiB + 128 B, with the reserved 1 KiB: 164 KiB / 41.125 KiB");
        assertEquals(4, blocks(128, 40 * 1024, 0, 16), "164 KiB / 41 KiB");
        assertEquals(6, blocks(256, 0, 0, 33),
            "33 registers a thread make 1056 a warp, allocated as 1280: 65536 / (8 * 1280)");
    }

    @Test
    void shouldFitNoBlockPastTheKernelsThreadLimit()
    {
        assertEquals(0, OccupancyCalculator.blocksPerMultiprocessor(
            512, 0, 256, 0, 16, 32, 2048, 32, 164 * 1024, 1024, 65536));
    }
}
