package dev.bitfusion.server;

import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Object2LongHashMap;

/**
 * Rate limits of the control stream, per source: a stranger who floods the control stream gets a few requests
 * a second answered, and every other client is served as if there were no flood.
 * <p>
 * A source is what sent a request: over UDP the address and port its media driver sends from (Aeron's source
 * identity of the image), which every publication of one process shares; over IPC the publication itself
 * (its Aeron session id), as every local client shares the server's media driver. Each source gets a bucket of
 * {@code burst} requests refilled at {@code perSecond}, kept as a generic cell rate algorithm: one theoretical
 * arrival time per source, no timer.
 * <p>
 * At most {@link #MAX_SOURCES} sources are tracked at once; a source whose bucket is full again is forgotten
 * (it is the same as one never seen), and while all tracked sources are busy, new ones share one bucket, so a
 * flood from many addresses costs a bounded table and still gets a bounded rate.
 * <p>
 * Thread safety: the control thread only.
 */
final class SourceRateLimiter
{
    /** Sources tracked at once; more share one bucket while none of these is idle. */
    static final int MAX_SOURCES = 4096;
    private static final long NEVER = Long.MIN_VALUE;
    /** A full table is swept for idle sources at most this often, so a flood from many sources costs no sweeps. */
    private static final long SWEEP_INTERVAL_NS = 100_000_000L;

    private final long intervalNs;
    private final long toleranceNs;
    private final Object2LongHashMap<String> udpSources = new Object2LongHashMap<>(NEVER);
    private final Long2LongHashMap ipcSources = new Long2LongHashMap(NEVER);
    private long sharedArrivalNs = NEVER;
    private long lastSweepNs = NEVER;

    /**
     * @param burst     requests a source may send at once.
     * @param perSecond requests a source may send each second after a burst.
     */
    SourceRateLimiter(final int burst, final int perSecond)
    {
        if (burst < 1 || perSecond < 1)
        {
            throw new IllegalArgumentException("control rate limit must allow at least 1 request and 1 a second: " +
                burst + " burst, " + perSecond + "/s");
        }
        intervalNs = 1_000_000_000L / perSecond;
        toleranceNs = (burst - 1) * intervalNs;
    }

    /**
     * @param sourceIdentity the UDP source's address and port.
     * @return whether the request may be served.
     */
    boolean tryAcquireUdp(final String sourceIdentity, final long nowNs)
    {
        final long arrivalNs = udpSources.getValue(sourceIdentity);
        if (arrivalNs == NEVER && udpSources.size() + ipcSources.size() >= MAX_SOURCES && !forgetIdle(nowNs))
        {
            return tryAcquireShared(nowNs);
        }
        final long nextNs = next(arrivalNs, nowNs);
        if (nextNs == NEVER)
        {
            return false;
        }
        udpSources.put(sourceIdentity, nextNs);
        return true;
    }

    /**
     * @param sessionId the IPC publication's Aeron session id.
     * @return whether the request may be served.
     */
    boolean tryAcquireIpc(final int sessionId, final long nowNs)
    {
        final long arrivalNs = ipcSources.get(sessionId);
        if (arrivalNs == NEVER && udpSources.size() + ipcSources.size() >= MAX_SOURCES && !forgetIdle(nowNs))
        {
            return tryAcquireShared(nowNs);
        }
        final long nextNs = next(arrivalNs, nowNs);
        if (nextNs == NEVER)
        {
            return false;
        }
        ipcSources.put(sessionId, nextNs);
        return true;
    }

    /**
     * @return sources tracked now, for tests of the bound.
     */
    int trackedSources()
    {
        return udpSources.size() + ipcSources.size();
    }

    private boolean tryAcquireShared(final long nowNs)
    {
        final long nextNs = next(sharedArrivalNs, nowNs);
        if (nextNs == NEVER)
        {
            return false;
        }
        sharedArrivalNs = nextNs;
        return true;
    }

    /**
     * @return the source's next theoretical arrival time once this request is taken, or NEVER when it must wait.
     */
    private long next(final long arrivalNs, final long nowNs)
    {
        final long fromNs = arrivalNs == NEVER || arrivalNs - nowNs < 0 ? nowNs : arrivalNs;
        return fromNs - nowNs > toleranceNs ? NEVER : fromNs + intervalNs;
    }

    /**
     * @return whether any source was forgotten: those whose buckets are full again.
     */
    private boolean forgetIdle(final long nowNs)
    {
        if (lastSweepNs != NEVER && nowNs - lastSweepNs < SWEEP_INTERVAL_NS)
        {
            return false;
        }
        lastSweepNs = nowNs;
        final int before = trackedSources();
        udpSources.values().removeIf(arrivalNs -> arrivalNs - nowNs <= 0);
        ipcSources.values().removeIf(arrivalNs -> arrivalNs - nowNs <= 0);
        return trackedSources() < before;
    }
}
