package dev.bitfusion.health;

import dev.bitfusion.health.server.BackendKind;
import dev.bitfusion.health.server.ClientInfo;
import dev.bitfusion.health.server.ComputeMode;
import dev.bitfusion.health.server.EccState;
import dev.bitfusion.health.server.GpuFacts;
import dev.bitfusion.health.server.ServerFacts;
import dev.bitfusion.health.report.TextReportWriter;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServerHealthTest
{
    private static final ServerAddress ADDRESS = ServerAddress.parse("172.16.31.206:56001");
    private static final ClientInfo CLIENT = new ClientInfo("0.1.0", 3);

    private static CheckResult find(final HealthReport report, final String namePrefix)
    {
        return report.results().stream().filter((r) -> r.name().startsWith(namePrefix)).findFirst().orElseThrow();
    }

    @Test
    void shouldPassEveryCheckWhenCudaServerIsHealthy()
    {
        final GpuFacts gpu = new GpuFacts(0, "NVIDIA A100", 40L << 30, 45, EccState.ENABLED, 0, 0,
            ComputeMode.DEFAULT, 16, 16, true, true);
        final CheckResult hostCheck = new CheckResult(CheckGroup.PERFORMANCE, "ulimit -n >= 4096", HealthStatus.PASS, "x");
        final ServerFacts facts = new ServerFacts(ADDRESS, BackendKind.CUDA, "0.1.0", 3, "550.54.15", 12040,
            List.of(gpu, new GpuFacts(1, "NVIDIA A100", 40L << 30, 50, EccState.ENABLED, 0, 0,
                ComputeMode.DEFAULT, 16, 16, true, true)),
            true, 256L << 30, 20_000, 9.5e9, List.of(hostCheck), "172.16.31.20", "172.16.31.20");

        final HealthReport report = ServerHealth.evaluate(facts, CLIENT, HealthThresholds.DEFAULTS);

        assertEquals("Health report for server: 172.16.31.206:56001", report.title());
        assertEquals(17, report.results().size());
        assertEquals(17, report.counts().get(HealthStatus.PASS), () -> new TextReportWriter().render(List.of(report)));
        assertEquals(hostCheck, report.results().get(16));
    }

    @Test
    void shouldNeverPassGpuHardwareChecksWhenBackendIsEmulated()
    {
        final GpuFacts gpu = new GpuFacts(0, "Emulated GPU", 4L << 30, GpuFacts.UNKNOWN, EccState.UNSUPPORTED,
            GpuFacts.UNKNOWN, GpuFacts.UNKNOWN, ComputeMode.DEFAULT, GpuFacts.UNKNOWN, GpuFacts.UNKNOWN, true, true);
        final ServerFacts facts = new ServerFacts(ADDRESS, BackendKind.EMULATED, "0.1.0", 3, null, 12040,
            List.of(gpu), null, 16L << 30, 30_000, 2.0e9, List.of(), null, null);

        final HealthReport report = ServerHealth.evaluate(facts, CLIENT, HealthThresholds.DEFAULTS);

        for (final String name : List.of("CUDA version", "GPU driver version", "GPUs available", "shadow memory",
            "PCIe link width", "stream memory ops", "host pointer", "PCIe P2P", "GPU temperature", "GPU ECC",
            "GPU compute mode"))
        {
            final CheckResult result = find(report, name);
            assertTrue(Set.of(HealthStatus.INFO, HealthStatus.SKIPPED).contains(result.status()), result::toString);
        }
        assertEquals("emulated GPU: no PCIe link", find(report, "PCIe link width").detail());
        assertEquals("emulated GPU: no temperature sensor", find(report, "GPU temperature").detail());
        // the link to an emulated server is real, so it is measured and judged like any other
        assertEquals(HealthStatus.PASS, find(report, "round-trip latency").status());
        assertEquals(HealthStatus.PASS, find(report, "connectivity").status());
        assertEquals(0, HealthReport.exitCode(List.of(report)));
    }

    @Test
    void shouldReportFatalSectionWhenServerUnreachable()
    {
        final HealthReport report = ServerHealth.unreachable(ADDRESS, "No answer within 5 s");

        assertEquals(List.of(new CheckResult(CheckGroup.SYSTEM_RESOURCES, "connectivity and auth token",
            HealthStatus.FATAL, "No answer within 5 s")), report.results());
        assertNotEquals(0, HealthReport.exitCode(List.of(report, LocalHealth.run(Fixtures.host("pass")))));
    }
}
