package dev.bitfusion.health;

import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One section of a health report: the checks of one server, or of the local host.
 * <p>
 * Immutable.
 *
 * @param target  "HOST:PORT" for a server, {@link #LOCALHOST} for the local host.
 * @param results the checks in the order they ran; the report prints them grouped by {@link CheckGroup}.
 */
public record HealthReport(String target, List<CheckResult> results)
{
    /**
     * The target of the local host's section.
     */
    public static final String LOCALHOST = "localhost";

    /**
     * Exit code of {@code bitfusion health} when no check is FATAL.
     */
    public static final int EXIT_OK = 0;

    /**
     * Exit code of {@code bitfusion health} when any check is FATAL.
     */
    public static final int EXIT_FATAL = 1;

    /**
     * Copies the results so the report cannot change after it is built.
     *
     * @param target  "HOST:PORT" or {@link #LOCALHOST}.
     * @param results the checks in the order they ran.
     */
    public HealthReport
    {
        Objects.requireNonNull(target, "target");
        results = List.copyOf(results);
    }

    /**
     * @return the section heading, "Health report for server: HOST:PORT" or "Health report for localhost".
     */
    public String title()
    {
        return LOCALHOST.equals(target) ? "Health report for " + LOCALHOST : "Health report for server: " + target;
    }

    /**
     * @return how many checks ended in each status, every status present (zero when none).
     */
    public Map<HealthStatus, Integer> counts()
    {
        final Map<HealthStatus, Integer> counts = new EnumMap<>(HealthStatus.class);
        for (final HealthStatus status : HealthStatus.values())
        {
            counts.put(status, 0);
        }
        for (final CheckResult result : results)
        {
            counts.merge(result.status(), 1, Integer::sum);
        }
        return counts;
    }

    /**
     * @return true when any check is FATAL.
     */
    public boolean hasFatal()
    {
        for (final CheckResult result : results)
        {
            if (HealthStatus.FATAL == result.status())
            {
                return true;
            }
        }
        return false;
    }

    /**
     * The exit code rule of {@code bitfusion health}: 0 unless any check of any section is FATAL.
     *
     * @param reports all sections printed.
     * @return {@link #EXIT_OK} or {@link #EXIT_FATAL}.
     */
    public static int exitCode(final Collection<HealthReport> reports)
    {
        for (final HealthReport report : reports)
        {
            if (report.hasFatal())
            {
                return EXIT_FATAL;
            }
        }
        return EXIT_OK;
    }
}
