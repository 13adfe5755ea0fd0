package dev.bitfusion.health.report;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthReport;
import dev.bitfusion.health.HealthStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class JsonReportWriterTest
{
    @Test
    void shouldWriteChecksCountsAndExitCodeWhenAskedForJson()
    {
        final HealthReport report = new HealthReport(HealthReport.LOCALHOST, List.of(
            new CheckResult(CheckGroup.PERFORMANCE, "round-trip latency <= 50.0 µs", HealthStatus.FATAL,
                "said \"no\"\n\\ done\u0001")));

        final String expected = "{\"reports\":[{\"target\":\"localhost\",\"title\":\"Health report for localhost\"," +
            "\"checks\":[{\"group\":\"Performance\",\"name\":\"round-trip latency <= 50.0 µs\",\"status\":\"FATAL\"," +
            "\"detail\":\"said \\\"no\\\"\\n\\\\ done\\u0001\"}]," +
            "\"counts\":{\"PASS\":0,\"INFO\":0,\"SKIPPED\":0,\"MARGINAL\":0,\"FATAL\":1}}],\"exitCode\":1}\n";

        assertEquals(expected, new JsonReportWriter().render(List.of(report)));
    }

    @Test
    void shouldWriteEmptyListWhenNoSections()
    {
        assertEquals("{\"reports\":[],\"exitCode\":0}\n", new JsonReportWriter().render(List.of()));
    }
}
