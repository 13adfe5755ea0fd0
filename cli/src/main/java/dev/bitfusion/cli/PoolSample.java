package dev.bitfusion.cli;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.transport.Endpoint;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One look at the pool for {@code bitfusion smi}: what every server answered, and each slice's calls and bytes per
 * second since the look before.
 * <p>
 * A rate needs the same slice in both looks. The servers count a slice's calls and bytes from the moment it is
 * reserved, over all its sessions, ended ones included, and say its age with each listing; the rate is the
 * difference of the counts over the difference of the ages, so the interval is the server's own, whatever time the
 * answers took to come. A slice new since the look before, or whose server did not answer then, has no rate yet.
 *
 * @param timestampMs when it was taken, by this host's clock.
 * @param intervalMs  how long after the look before it was taken, or 0 for the first.
 * @param answers     each server's answer, in the order the servers were given.
 * @param rates       the rates of the slices that have one.
 */
record PoolSample(long timestampMs, long intervalMs, List<PoolQuery.Answer> answers, Map<SliceKey, Rate> rates)
{
    /**
     * Names one slice across looks: a reservation's id is unique on its server while it lasts.
     *
     * @param server        the server.
     * @param reservationId the reservation (its holder's session id).
     */
    record SliceKey(Endpoint server, long reservationId)
    {
    }

    /**
     * @param callsPerSecond calls executed per second by all the slice's sessions.
     * @param bytesPerSecond bytes of requests and replies per second.
     */
    record Rate(double callsPerSecond, double bytesPerSecond)
    {
    }

    /**
     * @param answers     what the servers answered now.
     * @param timestampMs now, by this host's clock.
     * @param previous    the look before, or null.
     * @return the look, with the rates since the look before.
     */
    static PoolSample of(final List<PoolQuery.Answer> answers, final long timestampMs, final PoolSample previous)
    {
        final Map<SliceKey, Rate> rates = new HashMap<>();
        if (previous != null)
        {
            final Map<SliceKey, GpuPoolInfo.Slice> before = slicesOf(previous.answers());
            for (final Map.Entry<SliceKey, GpuPoolInfo.Slice> now : slicesOf(answers).entrySet())
            {
                final Rate rate = rate(before.get(now.getKey()), now.getValue());
                if (rate != null)
                {
                    rates.put(now.getKey(), rate);
                }
            }
        }
        return new PoolSample(timestampMs, previous == null ? 0 : timestampMs - previous.timestampMs(), answers, rates);
    }

    /**
     * @return the rate of that slice of that server, or null when it has none yet.
     */
    Rate rateOf(final Endpoint server, final GpuPoolInfo.Slice slice)
    {
        return rates.get(new SliceKey(server, slice.sessionId()));
    }

    private static Map<SliceKey, GpuPoolInfo.Slice> slicesOf(final List<PoolQuery.Answer> answers)
    {
        final Map<SliceKey, GpuPoolInfo.Slice> slices = new HashMap<>();
        for (final PoolQuery.Answer answer : answers)
        {
            if (answer.gpus() != null)
            {
                for (final GpuPoolInfo.Gpu gpu : answer.gpus().gpus())
                {
                    for (final GpuPoolInfo.Slice slice : gpu.slices())
                    {
                        slices.put(new SliceKey(answer.server(), slice.sessionId()), slice);
                    }
                }
            }
        }
        return slices;
    }

    /**
     * @return the rate between two listings of one reservation, or null when they cannot be the same one (a
     * restarted server reuses ids: younger, or fewer calls) or a server did not say.
     */
    private static Rate rate(final GpuPoolInfo.Slice before, final GpuPoolInfo.Slice now)
    {
        if (before == null || before.ageMs() < 0 || before.calls() < 0 || before.bytes() < 0 ||
            now.ageMs() <= before.ageMs() || now.calls() < before.calls() || now.bytes() < before.bytes())
        {
            return null;
        }
        final double seconds = (now.ageMs() - before.ageMs()) / 1000.0;
        return new Rate((now.calls() - before.calls()) / seconds, (now.bytes() - before.bytes()) / seconds);
    }
}
