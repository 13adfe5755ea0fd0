package dev.bitfusion.health.server;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.check.ByteSizes;

import java.util.Locale;

/**
 * The path between client and server: connectivity, whether a NAT lies between them, measured round-trip latency
 * and bandwidth. These are measured the same way for either backend, so the emulated backend gets real answers here.
 */
public final class LinkChecks
{
    static final String CONNECTIVITY = "connectivity and auth token";
    static final String NAT = "client address as the server sees it (NAT)";
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
     * Whether the server sees this client at the client's own address. NAT in between is no fault (replies
     * travel back on the path the client opened), so it is INFO: it tells an administrator that the server knows
     * this client by the NAT's address, which other clients behind the same NAT share. Replies that cannot come back leave no facts at all: the probe fails and
     * {@link #unreachable} is the section's FATAL line, naming the ports to open.
     *
     * @param facts the server, which answered.
     * @return PASS without NAT, INFO with NAT, SKIPPED when either address is unknown.
     */
    public static CheckResult nat(final ServerFacts facts)
    {
        final String own = facts.clientAddress();
        final String seen = facts.observedClientAddress();
        if (null == seen)
        {
            return new CheckResult(CheckGroup.SYSTEM_RESOURCES, NAT, HealthStatus.SKIPPED,
                "The server did not say which address it sees this client at");
        }
        if (null == own)
        {
            return new CheckResult(CheckGroup.SYSTEM_RESOURCES, NAT, HealthStatus.SKIPPED,
                "Seen as " + seen + "; this client's own address towards the server is unknown");
        }
        if (own.equals(seen))
        {
            return new CheckResult(CheckGroup.SYSTEM_RESOURCES, NAT, HealthStatus.PASS,
                "Seen at its own address " + own + ": no NAT in between");
        }
        return new CheckResult(CheckGroup.SYSTEM_RESOURCES, NAT, HealthStatus.INFO,
            "Seen as " + seen + ", not as its own address " + own + ": NAT in between; replies come back on the " +
            "path this client opened, so it needs no inbound port");
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
