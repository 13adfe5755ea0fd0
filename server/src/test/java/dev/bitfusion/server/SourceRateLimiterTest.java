package dev.bitfusion.server;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class SourceRateLimiterTest
{
    private static final long SECOND_NS = 1_000_000_000L;

    private final SourceRateLimiter limiter = new SourceRateLimiter(4, 2);

    @Test
    void shouldLetABurstThroughThenRefillAtTheRate()
    {
        final long startNs = 1_000 * SECOND_NS;
        for (int i = 0; i < 4; i++)
        {
            assertTrue(limiter.tryAcquireUdp("10.0.0.1:4000", startNs), "request " + i + " of the burst");
        }
        assertFalse(limiter.tryAcquireUdp("10.0.0.1:4000", startNs));
        assertFalse(limiter.tryAcquireUdp("10.0.0.1:4000", startNs + SECOND_NS / 4));
        assertTrue(limiter.tryAcquireUdp("10.0.0.1:4000", startNs + SECOND_NS / 2), "refilled at 2 a second");
        assertFalse(limiter.tryAcquireUdp("10.0.0.1:4000", startNs + SECOND_NS / 2));
    }

    @Test
    void shouldKeepSourcesApart()
    {
        final long nowNs = -5 * SECOND_NS;
        for (int i = 0; i < 10; i++)
        {
            limiter.tryAcquireUdp("10.0.0.1:4000", nowNs);
            limiter.tryAcquireIpc(7, nowNs);
        }
        assertTrue(limiter.tryAcquireUdp("10.0.0.1:4001", nowNs), "another port is another source");
        assertTrue(limiter.tryAcquireIpc(8, nowNs), "another publication is another source");
    }

    @Test
    void shouldBoundTheSourcesItTracksAndShareOneBucketPastThem()
    {
        final long nowNs = 0;
        for (int i = 0; i < SourceRateLimiter.MAX_SOURCES; i++)
        {
            assertTrue(limiter.tryAcquireIpc(i, nowNs));
        }
        assertEquals(SourceRateLimiter.MAX_SOURCES, limiter.trackedSources());

        int served = 0;
        for (int i = 0; i < 100; i++)
        {
            served += limiter.tryAcquireUdp("192.168.0." + i + ":1", nowNs) ? 1 : 0;
        }
        assertEquals(4, served, "sources past the table share one burst");
        assertEquals(SourceRateLimiter.MAX_SOURCES, limiter.trackedSources());

        assertTrue(limiter.tryAcquireUdp("192.168.1.1:1", nowNs + 10 * SECOND_NS), "idle sources forgotten");
        assertTrue(limiter.trackedSources() < SourceRateLimiter.MAX_SOURCES);
    }
}
