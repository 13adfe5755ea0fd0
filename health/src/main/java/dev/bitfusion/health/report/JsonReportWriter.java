package dev.bitfusion.health.report;

import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthReport;
import dev.bitfusion.health.HealthStatus;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The report for machines ({@code --json}): one object with the sections, their checks and counts,
 * and the exit code the command returns.
 * <pre>
 * {"reports":[{"target":"localhost","title":"Health report for localhost",
 *   "checks":[{"group":"Performance","name":"ulimit -n &gt;= 4096","status":"PASS","detail":"..."}],
 *   "counts":{"PASS":1,"INFO":0,"SKIPPED":0,"MARGINAL":0,"FATAL":0}}],
 *  "exitCode":0}
 * </pre>
 * Written by hand: the shape is fixed and flat, and a JSON library would be the module's only dependency.
 * <p>
 * Stateless and thread-safe.
 */
public final class JsonReportWriter implements ReportWriter
{
    /**
     * {@inheritDoc}
     */
    public void write(final List<HealthReport> reports, final Appendable out) throws IOException
    {
        out.append("{\"reports\":[");
        for (int i = 0; i < reports.size(); i++)
        {
            if (i > 0)
            {
                out.append(',');
            }
            writeReport(reports.get(i), out);
        }
        out.append("],\"exitCode\":").append(Integer.toString(HealthReport.exitCode(reports))).append("}\n");
    }

    private static void writeReport(final HealthReport report, final Appendable out) throws IOException
    {
        out.append("{\"target\":");
        string(report.target(), out);
        out.append(",\"title\":");
        string(report.title(), out);
        out.append(",\"checks\":[");
        final List<CheckResult> results = report.results();
        for (int i = 0; i < results.size(); i++)
        {
            final CheckResult result = results.get(i);
            out.append(i > 0 ? ",{\"group\":" : "{\"group\":");
            string(result.group().title(), out);
            out.append(",\"name\":");
            string(result.name(), out);
            out.append(",\"status\":");
            string(result.status().name(), out);
            out.append(",\"detail\":");
            string(result.detail(), out);
            out.append('}');
        }
        out.append("],\"counts\":{");
        boolean first = true;
        for (final Map.Entry<HealthStatus, Integer> count : report.counts().entrySet())
        {
            if (!first)
            {
                out.append(',');
            }
            first = false;
            string(count.getKey().name(), out);
            out.append(':').append(Integer.toString(count.getValue()));
        }
        out.append("}}");
    }

    static void string(final String value, final Appendable out) throws IOException
    {
        out.append('"');
        for (int i = 0; i < value.length(); i++)
        {
            final char c = value.charAt(i);
            switch (c)
            {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default ->
                {
                    if (c < 0x20)
                    {
                        out.append(String.format("\\u%04x", (int)c));
                    }
                    else
                    {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
