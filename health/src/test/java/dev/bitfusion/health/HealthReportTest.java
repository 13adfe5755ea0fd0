package dev.bitfusion.health;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HealthReportTest
{
    private static CheckResult check(final HealthStatus status)
    {
        return new CheckResult(CheckGroup.STABILITY, "x", status, "d");
    }

    @Test
    void shouldExitZeroWhenNothingIsFatal()
    {
        final HealthReport report = new HealthReport("localhost", List.of(
            check(HealthStatus.PASS), check(HealthStatus.MARGINAL), check(HealthStatus.SKIPPED), check(HealthStatus.INFO)));

        assertEquals(0, HealthReport.exitCode(List.of(report)));
    }

    @Test
    void shouldExitNonZeroWhenAnySectionHasFatal()
    {
        final HealthReport good = new HealthReport("localhost", List.of(check(HealthStatus.PASS)));
        final HealthReport bad = new HealthReport("gpu1:56001", List.of(check(HealthStatus.FATAL)));

        assertEquals(1, HealthReport.exitCode(List.of(good, bad)));
    }

    @Test
    void shouldCountEveryStatusIncludingZeroes()
    {
        final HealthReport report = new HealthReport("localhost", List.of(
            check(HealthStatus.PASS), check(HealthStatus.PASS), check(HealthStatus.MARGINAL)));

        assertEquals(
            Map.of(HealthStatus.PASS, 2, HealthStatus.INFO, 0, HealthStatus.SKIPPED, 0,
                HealthStatus.MARGINAL, 1, HealthStatus.FATAL, 0),
            report.counts());
    }

    @Test
    void shouldTitleServerAndLocalhostSections()
    {
        assertEquals("Health report for server: 172.16.31.206:56001",
            new HealthReport("172.16.31.206:56001", List.of()).title());
        assertEquals("Health report for localhost", new HealthReport(HealthReport.LOCALHOST, List.of()).title());
    }

    @Test
    void shouldParseServerAddressWhenGivenHostPort()
    {
        assertEquals(new ServerAddress("gpu1", 56001), ServerAddress.parse("gpu1:56001"));
        assertEquals(new ServerAddress("::1", 56001), ServerAddress.parse("[::1]:56001"));
        assertEquals("[::1]:56001", ServerAddress.parse("[::1]:56001").toString());
        assertThrows(IllegalArgumentException.class, () -> ServerAddress.parse("gpu1"));
    }
}
