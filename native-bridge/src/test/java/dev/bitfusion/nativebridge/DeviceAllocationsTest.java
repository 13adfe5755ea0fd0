package dev.bitfusion.nativebridge;

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
        allocations.add(0x7f00_0000_0000L, 4096);

        assertTrue(allocations.isDevice(0x7f00_0000_0000L));
        assertTrue(allocations.isDevice(0x7f00_0000_0fffL));
        assertFalse(allocations.isDevice(0x7f00_0000_1000L));
        assertFalse(allocations.isDevice(0x7eff_ffff_ffffL));
    }

    @Test
    void shouldGiveTheRangeHoldingAnAddressAsCuMemGetAddressRangeDoes()
    {
        allocations.add(0x7f00_0000_0000L, 4096);

        assertEquals(0x7f00_0000_0000L, allocations.baseOf(0x7f00_0000_0800L));
        assertEquals(4096, allocations.lengthOf(allocations.baseOf(0x7f00_0000_0800L)));
        assertEquals(0, allocations.baseOf(0x7f00_0000_1000L));
        assertEquals(0, allocations.lengthOf(0x7f00_0000_0800L));
    }

    @Test
    void shouldForgetFreedAllocationsAndAllOnReset()
    {
        allocations.add(0x1000_0000L, 256);
        allocations.add(0x2000_0000L, 256);

        allocations.remove(0x1000_0000L);
        assertFalse(allocations.isDevice(0x1000_0010L));
        assertTrue(allocations.isDevice(0x2000_0010L));

        allocations.clear();
        assertFalse(allocations.isDevice(0x2000_0010L));
    }

    @Test
    void shouldOrderAddressesWithTheTopBitSetAsUnsigned()
    {
        allocations.add(0xffff_8000_0000_0000L, 1 << 20);
        allocations.add(0x10_0000L, 16);

        assertTrue(allocations.isDevice(0xffff_8000_0000_0100L));
        assertFalse(allocations.isDevice(0x7fff_ffff_ffffL));
        assertTrue(allocations.isDevice(0x10_000fL));
    }

    @Test
    void shouldIgnoreNullAllocationsAndCountEmptyOnesAsOneByte()
    {
        allocations.add(0, 4096);
        allocations.add(0x5000, 0);

        assertFalse(allocations.isDevice(0x10));
        assertTrue(allocations.isDevice(0x5000));
        assertFalse(allocations.isDevice(0x5001));
    }
}
