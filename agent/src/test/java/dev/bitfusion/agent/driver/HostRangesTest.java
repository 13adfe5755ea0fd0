package dev.bitfusion.agent.driver;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HostRangesTest
{
    private final HostRanges ranges = new HostRanges();

    @Test
    void shouldFindTheRangeHoldingAnAddress()
    {
        assertTrue(ranges.add(new HostRanges.Range(0x1000, 0x100, 2, true, 0x0ff0)));

        assertEquals(0x1000, ranges.find(0x10ff).base());
        assertEquals(2, ranges.find(0x1000).flags());
        assertNull(ranges.find(0x1100));
        assertNull(ranges.find(0x0fff));
    }

    @Test
    void shouldRefuseARangeOverlappingOneAlreadyKnown()
    {
        assertTrue(ranges.add(new HostRanges.Range(0x1000, 0x100, 0, false, 0)));

        assertFalse(ranges.add(new HostRanges.Range(0x0f80, 0x100, 0, false, 0)));
        assertFalse(ranges.add(new HostRanges.Range(0x10ff, 0x10, 0, false, 0)));
        assertTrue(ranges.add(new HostRanges.Range(0x1100, 0x10, 0, false, 0)));
    }

    @Test
    void shouldLetGoOnlyOfARangeStartingThereAndOwnedAsAsked()
    {
        ranges.add(new HostRanges.Range(0x1000, 0x100, 0, true, 0x0ff0));

        assertNull(ranges.take(0x1000, false), "an allocation is not unregistered");
        assertNull(ranges.take(0x1010, true), "only the base names a range");
        assertEquals(0x0ff0, ranges.take(0x1000, true).allocation());
        assertNull(ranges.find(0x1000));
    }
}
