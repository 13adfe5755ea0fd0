package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.host.HostView;

import java.io.IOException;

/**
 * {@code ulimit -n} of this process, read from {@code /proc/self/limits} (the soft limit, the one that
 * applies): each session holds sockets, log buffers and files, and a low limit fails under load.
 */
public final class OpenFilesLimitCheck implements HostCheck
{
    static final String LIMITS_PATH = "/proc/self/limits";
    private static final String MAX_OPEN_FILES = "Max open files";

    private final long minOpenFiles;

    /**
     * @param minOpenFiles the soft limit below which the check is MARGINAL.
     */
    public OpenFilesLimitCheck(final long minOpenFiles)
    {
        this.minOpenFiles = minOpenFiles;
    }

    /**
     * {@inheritDoc}
     */
    public CheckResult run(final HostView host)
    {
        final String name = "ulimit -n >= " + minOpenFiles;
        final String limits;
        try
        {
            limits = host.readTrimmed(LIMITS_PATH);
        }
        catch (final IOException ex)
        {
            return result(name, HealthStatus.SKIPPED, "Cannot read " + LIMITS_PATH + ": " + ex.getMessage());
        }

        for (final String line : limits.split("\n"))
        {
            if (line.startsWith(MAX_OPEN_FILES))
            {
                final String[] fields = line.substring(MAX_OPEN_FILES.length()).trim().split("\\s+");
                final String soft = fields[0];
                if ("unlimited".equals(soft))
                {
                    return result(name, HealthStatus.PASS, "Current limit: unlimited");
                }
                try
                {
                    final long value = Long.parseLong(soft);
                    if (value >= minOpenFiles)
                    {
                        return result(name, HealthStatus.PASS, "Current limit: " + value);
                    }
                    return result(name, HealthStatus.MARGINAL,
                        "Current limit: " + value + " < " + minOpenFiles + "; raise it with ulimit -n " + minOpenFiles);
                }
                catch (final NumberFormatException ex)
                {
                    return result(name, HealthStatus.MARGINAL, "Unable to parse open files limit: " + soft);
                }
            }
        }
        return result(name, HealthStatus.SKIPPED, "No \"" + MAX_OPEN_FILES + "\" line in " + LIMITS_PATH);
    }

    private static CheckResult result(final String name, final HealthStatus status, final String detail)
    {
        return new CheckResult(CheckGroup.PERFORMANCE, name, status, detail);
    }
}
