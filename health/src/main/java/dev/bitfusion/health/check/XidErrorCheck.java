package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.host.CommandResult;
import dev.bitfusion.health.host.HostView;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPU Xid errors in the kernel log, read with {@code dmesg}. The log is often closed to unprivileged
 * users (kernel.dmesg_restrict), and then the check says so rather than claim a clean log.
 * <p>
 * Xids that mean the GPU is unusable until reset (fallen off the bus, double-bit ECC, uncontained
 * errors, GSP failures) are FATAL; others are MARGINAL, since many are caused by applications.
 */
public final class XidErrorCheck implements HostCheck
{
    static final String NAME = "GPU Xid errors";
    static final List<String> DMESG = List.of("dmesg");

    /**
     * Xids after which the GPU must be reset: 48 double-bit ECC, 62 internal micro-controller halt,
     * 64 ECC page retirement failure, 74 NVLink error, 79 fallen off the bus, 95 uncontained ECC,
     * 119/120 GSP failure, 140 unrecovered ECC.
     */
    public static final Set<Integer> FATAL_XIDS = Set.of(48, 62, 64, 74, 79, 95, 119, 120, 140);

    private static final Pattern XID = Pattern.compile("NVRM: Xid \\(([^)]*)\\): (\\d+)");

    /**
     * {@inheritDoc}
     */
    public CheckResult run(final HostView host)
    {
        try
        {
            if (NvidiaGpuScanner.scan(host).isEmpty())
            {
                return result(HealthStatus.INFO, "No NVIDIA GPU on this host");
            }
        }
        catch (final IOException ex)
        {
            // The GPU list is only a courtesy here; the log can still be read.
        }

        final CommandResult dmesg = host.commandRunner().run(DMESG);
        if (!dmesg.succeeded())
        {
            final String reason = dmesg.stderr().isBlank() ? "exit code " + dmesg.exitCode() : dmesg.stderr().trim();
            return result(HealthStatus.SKIPPED, "Cannot read the kernel log: " + reason);
        }
        return evaluate(parse(dmesg.stdout()));
    }

    /**
     * @param kernelLog kernel log text, as dmesg prints it.
     * @return the Xid errors in it, in log order.
     */
    public static List<XidEvent> parse(final String kernelLog)
    {
        final List<XidEvent> events = new ArrayList<>();
        final Matcher matcher = XID.matcher(kernelLog);
        while (matcher.find())
        {
            events.add(new XidEvent(matcher.group(1), Integer.parseInt(matcher.group(2))));
        }
        return events;
    }

    /**
     * Judges Xid errors however they were collected, on this host or reported by a server.
     *
     * @param events the Xid errors found.
     * @return the report line.
     */
    public static CheckResult evaluate(final List<XidEvent> events)
    {
        if (events.isEmpty())
        {
            return result(HealthStatus.PASS, "No Xid errors in the kernel log");
        }

        final TreeMap<String, Integer> counts = new TreeMap<>();
        boolean fatal = false;
        for (final XidEvent event : events)
        {
            counts.merge(event.pciAddress() + " Xid " + event.code(), 1, Integer::sum);
            fatal |= FATAL_XIDS.contains(event.code());
        }

        final List<String> parts = new ArrayList<>();
        counts.forEach((key, count) -> parts.add(key + (count > 1 ? " (x" + count + ")" : "")));
        return result(fatal ? HealthStatus.FATAL : HealthStatus.MARGINAL, String.join(", ", parts));
    }

    private static CheckResult result(final HealthStatus status, final String detail)
    {
        return new CheckResult(CheckGroup.STABILITY, NAME, status, detail);
    }
}
