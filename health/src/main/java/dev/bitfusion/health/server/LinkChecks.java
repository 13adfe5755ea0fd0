package dev.bitfusion.health.server;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.check.ByteSizes;

import java.util.Locale;

/**
 * The path between client and server: connectivity, measured round-trip latency and bandwidth. These
 * are measured the same way for either backend, so the emulated backend gets real answers here.
 */
public final class LinkChecks
{
    static final String CONNECTIVITY = "connectivity and auth token";
    private static final double NS_PER_US = 1000.0;

    private LinkChecks()
    {
    }

    /**
     * @param facts the server, which answered.
     * @return PASS: the facts exist only because the server accepted the connection and the token.
     */
    public static CheckResult connected(final ServerFacts facts)
    {
        return new CheckResult(CheckGroup.SYSTEM_RESOURCES, CONNECTIVITY, HealthStatus.PASS,
            "Connected to " + facts.address() + ", token accepted");
    }

    /**
     * @param reason why the server did not answer, e.g. "connection timed out after 5 s" or
     *               "auth token rejected".
     * @return the FATAL line of a server that cannot be used.
     */
    public static CheckResult unreachable(final String reason)
    {
        return new CheckResult(CheckGroup.SYSTEM_RESOURCES, CONNECTIVITY, HealthStatus.FATAL, reason);
    }

    /**
     * @param facts        the server.
     * @param maxLatencyNs the round trip above which the check is MARGINAL.
     * @return the report line.
     */
    public static CheckResult latency(final ServerFacts facts, final long maxLatencyNs)
    {
        final String name = "round-trip latency <= " + micros(maxLatencyNs);
        if (facts.latencyNs() < 0)
        {
            return new CheckResult(CheckGroup.PERFORMANCE, name, HealthStatus.SKIPPED, "Latency not measured");
        }
        final HealthStatus status = facts.latencyNs() <= maxLatencyNs ? HealthStatus.PASS : HealthStatus.MARGINAL;
        return new CheckResult(CheckGroup.PERFORMANCE, name, status, "Measured " + micros(facts.latencyNs()));
    }

    /**
     * @param facts                   the server.
     * @param minBandwidthBytesPerSec the bandwidth below which the check is MARGINAL.
     * @return the report line.
     */
    public static CheckResult bandwidth(final ServerFacts facts, final double minBandwidthBytesPerSec)
    {
        final String name = "bandwidth >= " + ByteSizes.gbPerSec(minBandwidthBytesPerSec);
        if (facts.bandwidthBytesPerSec() < 0)
        {
            return new CheckResult(CheckGroup.PERFORMANCE, name, HealthStatus.SKIPPED, "Bandwidth not measured");
        }
        final HealthStatus status = facts.bandwidthBytesPerSec() >= minBandwidthBytesPerSec ?
            HealthStatus.PASS : HealthStatus.MARGINAL;
        return new CheckResult(
            CheckGroup.PERFORMANCE, name, status, "Measured " + ByteSizes.gbPerSec(facts.bandwidthBytesPerSec()));
    }

    private static String micros(final long nanos)
    {
        return String.format(Locale.ROOT, "%.1f µs", nanos / NS_PER_US);
    }
}
