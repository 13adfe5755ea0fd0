package dev.bitfusion.agent.driver;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceAllocationsTest
{
    private final DeviceAllocations allocations = new DeviceAllocations();

    @Test
    void shouldTellAddressesInsideAnAllocationFromThoseAround()
    {
        allocations.add(0x7f00_0000_0000L, 4096, 0);

        assertTrue(allocations.isDevice(0x7f00_0000_0000L));
        assertTrue(allocations.isDevice(0x7f00_0000_0fffL));
        assertFalse(allocations.isDevice(0x7f00_0000_1000L));
        assertFalse(allocations.isDevice(0x7eff_ffff_ffffL));
    }

    @Test
    void shouldGiveTheRangeHoldingAnAddressAsCuMemGetAddressRangeDoes()
    {
        allocations.add(0x7f00_0000_0000L, 4096, 0);

        assertEquals(0x7f00_0000_0000L, allocations.baseOf(0x7f00_0000_0800L));
        assertEquals(4096, allocations.lengthOf(allocations.baseOf(0x7f00_0000_0800L)));
        assertEquals(0, allocations.baseOf(0x7f00_0000_1000L));
        assertEquals(0, allocations.lengthOf(0x7f00_0000_0800L));
    }

    @Test
    void shouldForgetFreedAllocationsAndThoseOfAResetGpu()
    {
        allocations.add(0x1000_0000L, 256, 0);
        allocations.add(0x2000_0000L, 256, 0);
        allocations.add(0x3000_0000L, 256, 1);

        allocations.remove(0x1000_0000L);
        assertFalse(allocations.isDevice(0x1000_0010L));
        assertTrue(allocations.isDevice(0x2000_0010L));

        allocations.clear(0);
        assertFalse(allocations.isDevice(0x2000_0010L));
        assertTrue(allocations.isDevice(0x3000_0010L), "another GPU's memory outlives the reset");
    }

    @Test
    void shouldTellWhichGpuHoldsAnAddress()
    {
        allocations.add(0x1000_0000L, 256, 0);
        allocations.add(0x2000_0000L, 256, 1);

        assertEquals(0, allocations.deviceOf(0x1000_00ffL));
        assertEquals(1, allocations.deviceOf(0x2000_0000L));
        assertEquals(-1, allocations.deviceOf(0x2000_0100L));
    }

    @Test
    void shouldOrderAddressesWithTheTopBitSetAsUnsigned()
    {
        allocations.add(0xffff_8000_0000_0000L, 1 << 20, 0);
        allocations.add(0x10_0000L, 16, 0);

        assertTrue(allocations.isDevice(0xffff_8000_0000_0100L));
        assertFalse(allocations.isDevice(0x7fff_ffff_ffffL));
        assertTrue(allocations.isDevice(0x10_000fL));
    }

    @Test
    void shouldIgnoreNullAllocationsAndCountEmptyOnesAsOneByte()
    {
        allocations.add(0, 4096, 0);
        allocations.add(0x5000, 0, 0);

        assertFalse(allocations.isDevice(0x10));
        assertTrue(allocations.isDevice(0x5000));
        assertFalse(allocations.isDevice(0x5001));
    }
}
