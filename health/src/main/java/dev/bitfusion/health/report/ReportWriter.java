package dev.bitfusion.health.report;

import dev.bitfusion.health.HealthReport;

import java.io.IOException;
import java.util.List;

/**
 * Prints health report sections for people or machines.
 */
public interface ReportWriter
{
    /**
     * @param reports the sections, servers first then localhost.
     * @param out     where to print.
     * @throws IOException when {@code out} fails.
     */
    void write(List<HealthReport> reports, Appendable out) throws IOException;

    /**
     * @param reports the sections.
     * @return what {@link #write} prints.
     */
    default String render(final List<HealthReport> reports)
    {
        final StringBuilder builder = new StringBuilder();
        try
        {
            write(reports, builder);
        }
        catch (final IOException ex)
        {
            throw new IllegalStateException("StringBuilder does not throw", ex);
        }
        return builder.toString();
    }
}
