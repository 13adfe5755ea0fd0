package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.host.HostView;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Error and drop counters of every interface, from {@code /sys/class/net/IF/statistics}: a lossy link
 * turns into retransmits, and Aeron retransmits show up as latency spikes on CUDA calls.
 * <p>
 * The counters are totals since boot, so a non-zero value says the link has lost frames at some time,
 * not that it does now; the detail names each file so the user can watch it.
 */
public final class NetworkErrorsCheck implements HostCheck
{
    static final List<String> COUNTERS = List.of("rx_errors", "tx_errors", "rx_dropped", "tx_dropped");
    private static final String NAME = "network errors and drops";

    /**
     * {@inheritDoc}
     */
    public CheckResult run(final HostView host)
    {
        final List<Path> interfaces;
        try
        {
            interfaces = NetInterfaces.list(host);
        }
        catch (final IOException ex)
        {
            return result(HealthStatus.SKIPPED, "Cannot list " + NetInterfaces.CLASS_NET + ": " + ex.getMessage());
        }

        final List<String> nonZero = new ArrayList<>();
        int countersRead = 0;
        for (final Path dir : interfaces)
        {
            for (final String counter : COUNTERS)
            {
                final Path file = dir.resolve("statistics").resolve(counter);
                try
                {
                    final long value = Long.parseLong(HostView.readTrimmed(file));
                    countersRead++;
                    if (value > 0)
                    {
                        nonZero.add(host.displayPath(file) + " = " + value);
                    }
                }
                catch (final IOException | NumberFormatException ex)
                {
                    // A counter an interface does not have is no evidence either way.
                }
            }
        }

        if (!nonZero.isEmpty())
        {
            return result(HealthStatus.MARGINAL, String.join(", ", nonZero));
        }
        if (0 == countersRead)
        {
            return result(HealthStatus.SKIPPED,
                "No readable counters under " + NetInterfaces.CLASS_NET + "/*/statistics");
        }
        return result(HealthStatus.PASS,
            "No errors or drops on " + interfaces.size() + " interface(s) (" + String.join(", ", COUNTERS) + ")");
    }

    private static CheckResult result(final HealthStatus status, final String detail)
    {
        return new CheckResult(CheckGroup.STABILITY, NAME, status, detail);
    }
}
