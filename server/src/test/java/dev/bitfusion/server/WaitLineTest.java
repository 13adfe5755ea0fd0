package dev.bitfusion.server;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WaitLineTest
{
    private final WaitLine line = new WaitLine();

    @Test
    void shouldOrderWaitersByWhenTheyBeganToWaitThenByTicketWhateverOrderTheyAsk()
    {
        final long nowNs = 0;
        assertTrue(line.renew(30, 2_000, nowNs));
        assertTrue(line.renew(10, 1_000, nowNs));
        assertTrue(line.renew(20, 2_000, nowNs));

        assertEquals(0, line.ahead(10, nowNs));
        assertEquals(1, line.ahead(20, nowNs), "same time: the lower ticket first, as on every other server");
        assertEquals(2, line.ahead(30, nowNs));
        assertEquals(3, line.ahead(0, nowNs), "a request that does not wait comes after everyone in line");
    }

    @Test
    void shouldLetAWaiterThatStoppedRenewingLeaveTheLine()
    {
        line.renew(10, 1_000, 0);
        line.renew(20, 2_000, 0);
        final long laterNs = WaitLine.LEASE_NS + TimeUnit.MILLISECONDS.toNanos(1);
        line.renew(20, 2_000, laterNs - TimeUnit.SECONDS.toNanos(1));

        assertEquals(0, line.ahead(20, laterNs), "10 gave up: 20 is first");
        assertEquals(1, line.size(laterNs));
    }

    @Test
    void shouldTakeAServedWaiterOutOfLine()
    {
        line.renew(10, 1_000, 0);
        line.renew(20, 2_000, 0);
        line.served(10);

        assertEquals(0, line.ahead(20, 0));
        assertEquals(1, line.size(0));
    }

    @Test
    void shouldRefuseNewcomersOnceTheLineIsFullButKeepThoseInIt()
    {
        for (int i = 1; i <= WaitLine.MAX_WAITERS; i++)
        {
            assertTrue(line.renew(i, i, 0));
        }
        assertFalse(line.renew(WaitLine.MAX_WAITERS + 1, 0, 0));
        assertTrue(line.renew(5, 5, 0), "one already in line renews");
        assertEquals(WaitLine.MAX_WAITERS, line.size(0));
    }
}
