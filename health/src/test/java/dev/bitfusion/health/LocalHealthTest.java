package dev.bitfusion.health;

import dev.bitfusion.health.host.CommandResult;
import dev.bitfusion.health.host.HostView;
import dev.bitfusion.health.report.TextReportWriter;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalHealthTest
{
    @Test
    void shouldProduceLocalhostSectionWithEveryGroupWhenHostIsHealthy()
    {
        final HealthReport report = LocalHealth.run(Fixtures.host("pass")
            .withCommandRunner((command) -> new CommandResult(0, "[ 1.0] clean\n", "")));

        assertEquals(HealthReport.LOCALHOST, report.target());
        assertEquals(0, report.counts().get(HealthStatus.MARGINAL), () -> new TextReportWriter().render(List.of(report)));
        assertEquals(0, report.counts().get(HealthStatus.FATAL));
        for (final CheckGroup group : CheckGroup.values())
        {
            assertTrue(report.results().stream().anyMatch((r) -> r.group() == group), group::title);
        }
        assertEquals(0, HealthReport.exitCode(List.of(report)));
    }

    @Test
    void shouldReportMarginalsOfMisconfiguredHost()
    {
        final HealthReport report = LocalHealth.run(Fixtures.host("marginal"));

        final List<String> marginal = report.results().stream()
            .filter((r) -> HealthStatus.MARGINAL == r.status())
            .map(CheckResult::name)
            .toList();
        assertEquals(List.of("CUDA toolkit version", "cuDNN version", "PCIe link width at maximum", "ulimit -n >= 4096",
            "MTU >= 4K on interfaces >= 10000Mbps", "network errors and drops"), marginal);
    }

    @Test
    void shouldExitNonZeroWhenGpuLinkDown()
    {
        final HealthReport report = LocalHealth.run(Fixtures.host("fatal"));

        assertEquals(1, report.counts().get(HealthStatus.FATAL));
        assertEquals(1, HealthReport.exitCode(List.of(report)));
    }

    @Test
    void shouldCheckEachServerAndLibraryGiven()
    {
        final LocalHealthOptions options = new LocalHealthOptions(
            List.of(ServerAddress.parse("127.0.0.1:56001"), ServerAddress.parse("10.9.9.9:56001")),
            40L << 30, null, List.of("/opt/bitfusion/lib/libcuda.so.1"), HealthThresholds.DEFAULTS);

        final HealthReport report = LocalHealth.run(Fixtures.host("pass").withEnvironment(Map.of()), options);

        assertEquals(HealthStatus.PASS, status(report, "interface/subnet compatibility for 127.0.0.1:56001"));
        assertEquals(HealthStatus.FATAL, status(report, "interface/subnet compatibility for 10.9.9.9:56001"));
        assertEquals(HealthStatus.INFO, status(report, "library dependency: libcuda.so.1"));
        assertEquals(HealthStatus.PASS, status(report, "shadow memory (host memory >= GPU memory)"));
    }

    @Test
    void shouldReportEveryGroupWhenRunOnThisHost()
    {
        final HealthReport report = LocalHealth.run(HostView.system());

        for (final CheckGroup group : CheckGroup.values())
        {
            assertTrue(report.results().stream().anyMatch((r) -> r.group() == group), group::title);
        }
        assertEquals(HealthStatus.PASS, status(report, "library dependency: Java >= 17"));
    }

    private static HealthStatus status(final HealthReport report, final String name)
    {
        return report.results().stream().filter((r) -> r.name().equals(name)).findFirst().orElseThrow().status();
    }
}
