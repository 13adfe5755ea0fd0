package dev.bitfusion.health.report;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthReport;
import dev.bitfusion.health.HealthStatus;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The report for people, in the format of the design:
 * <pre>
 * Health report for server: 172.16.31.206:56001
 * =====
 *
 * Software Versions checks:
 * =====
 * [PASS    ] Check CUDA version &gt;= 12000: Current version: 12040
 *
 * ...
 * Consistency checks:
 * =====
 * PASS: 17
 * INFO: 0
 * SKIPPED: 0
 * MARGINAL: 2
 * FATAL: 0
 * </pre>
 * Every group is printed, even one without checks, so the structure does not depend on the host.
 * Sections are separated by a blank line.
 * <p>
 * Stateless and thread-safe.
 */
public final class TextReportWriter implements ReportWriter
{
    static final String UNDERLINE = "=====";
    private static final int STATUS_WIDTH = 8;

    /**
     * {@inheritDoc}
     */
    public void write(final List<HealthReport> reports, final Appendable out) throws IOException
    {
        boolean first = true;
        for (final HealthReport report : reports)
        {
            if (!first)
            {
                out.append('\n');
            }
            first = false;
            writeSection(report, out);
        }
    }

    private static void writeSection(final HealthReport report, final Appendable out) throws IOException
    {
        out.append(report.title()).append('\n').append(UNDERLINE).append("\n\n");
        for (final CheckGroup group : CheckGroup.values())
        {
            out.append(group.title()).append(" checks:\n").append(UNDERLINE).append('\n');
            for (final CheckResult result : report.results())
            {
                if (group == result.group())
                {
                    out.append(line(result)).append('\n');
                }
            }
            out.append('\n');
        }

        out.append("Consistency checks:\n").append(UNDERLINE).append('\n');
        for (final Map.Entry<HealthStatus, Integer> count : report.counts().entrySet())
        {
            out.append(count.getKey().name()).append(": ").append(Integer.toString(count.getValue())).append('\n');
        }
    }

    /**
     * @param result a check.
     * @return its line, e.g. {@code [PASS    ] Check ulimit -n >= 4096: Current limit: 65536}.
     */
    public static String line(final CheckResult result)
    {
        final StringBuilder builder = new StringBuilder("[").append(result.status().name());
        while (builder.length() < STATUS_WIDTH + 1)
        {
            builder.append(' ');
        }
        return builder.append("] Check ").append(result.name()).append(": ").append(result.detail()).toString();
    }
}
