package dev.bitfusion.server.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class DeviceRangesTest
{
    @Test
    void shouldAcceptRangesInsideOneAllocationOnly()
    {
        final DeviceRanges table = new DeviceRanges();
        table.add(0x2000, 0x100);
        table.add(0x1000, 0x100);
        table.add(0x2100, 0x100);

        assertTrue(table.contains(0x1000, 0x100));
        assertTrue(table.contains(0x10F0, 0x10));
        assertFalse(table.contains(0x10F0, 0x11), "past the end");
        assertFalse(table.contains(0x0FFF, 1), "before the first");
        assertFalse(table.contains(0x20F0, 0x20), "across two adjacent allocations");
        assertFalse(table.contains(0x3000, 1), "after the last");
        assertFalse(table.contains(0, 0), "null");
    }

    @Test
    void shouldForgetAFreedRangeAndGrowPastItsInitialCapacity()
    {
        final DeviceRanges table = new DeviceRanges();
        for (int i = 1000; i > 0; i--)
        {
            table.add(i * 0x1000L, 0x800);
        }
        assertEquals(1000, table.size());
        assertEquals(0x800, table.remove(0x5000));
        assertEquals(-1, table.remove(0x5000));
        assertFalse(table.contains(0x5000, 1));
        assertTrue(table.contains(0x6000, 0x800));
        assertEquals(0x1000, table.startAt(0));
    }
}
