package dev.bitfusion.server;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class SliceLedgerTest
{
    @Test
    void shouldNeverPromiseMoreThanTheGpuHas()
    {
        final SliceLedger ledger = new SliceLedger(1000);
        assertTrue(ledger.reserve(1, 600));
        assertFalse(ledger.reserve(2, 401));
        assertTrue(ledger.reserve(2, 400));
        assertEquals(0, ledger.unreservedBytes());
        assertFalse(ledger.reserve(3, 1));
    }

    @Test
    void shouldReturnASliceWhenItsSessionEnds()
    {
        final SliceLedger ledger = new SliceLedger(1000);
        ledger.reserve(1, 700);
        ledger.release(1);
        ledger.release(1);
        ledger.release(42);
        assertEquals(1000, ledger.unreservedBytes());
        assertTrue(ledger.reserve(2, 1000));
    }

    @Test
    void shouldRefuseEmptySlices()
    {
        assertFalse(new SliceLedger(1000).reserve(1, 0));
    }
}
