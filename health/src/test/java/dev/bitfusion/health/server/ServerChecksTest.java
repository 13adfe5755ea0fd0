package dev.bitfusion.health.server;

import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.bitfusion.health.server.ServerFactsFixtures.CLIENT;
import static dev.bitfusion.health.server.ServerFactsFixtures.a100;
import static dev.bitfusion.health.server.ServerFactsFixtures.cuda;
import static dev.bitfusion.health.server.ServerFactsFixtures.seeingClient;
import static dev.bitfusion.health.server.ServerFactsFixtures.withGpu;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ServerChecksTest
{
    private static void assertResult(final HealthStatus status, final String detail, final CheckResult result)
    {
        assertEquals(status, result.status(), result::toString);
        assertEquals(detail, result.detail());
    }

    private static GpuFacts gpu(
        final int temperatureC, final EccState ecc, final long corrected, final long uncorrected,
        final ComputeMode mode, final int currentWidth)
    {
        return new GpuFacts(0, "A100", 40L << 30, temperatureC, ecc, corrected, uncorrected, mode, currentWidth, 16,
            true, true);
    }

    private static ServerFacts versions(final String driver, final int cuda, final int protocol)
    {
        return new ServerFacts(ServerFactsFixtures.ADDRESS, BackendKind.CUDA, "0.2.0", protocol, driver, cuda,
            List.of(a100(0)), null, -1, -1, -1, List.of(), null, null);
    }

    @Test
    void shouldPassNatCheckWhenServerSeesClientAtItsOwnAddress()
    {
        assertResult(HealthStatus.PASS, "Seen at its own address 10.0.0.5: no NAT in between",
            LinkChecks.nat(seeingClient("10.0.0.5", "10.0.0.5")));
    }

    @Test
    void shouldReportNatAsInfoWhenServerSeesClientAtAnotherAddress()
    {
        final CheckResult result = LinkChecks.nat(seeingClient("10.200.0.2", "10.100.0.1"));

        assertEquals("client address as the server sees it (NAT)", result.name());
        assertResult(HealthStatus.INFO, "Seen as 10.100.0.1, not as its own address 10.200.0.2: NAT in between; " +
            "replies come back on the path this client opened, so it needs no inbound port", result);
    }

    @Test
    void shouldSkipNatCheckWhenEitherAddressIsUnknown()
    {
        assertResult(HealthStatus.SKIPPED, "The server did not say which address it sees this client at",
            LinkChecks.nat(seeingClient("10.0.0.5", null)));
        assertResult(HealthStatus.SKIPPED, "Seen as 10.0.0.5; this client's own address towards the server is unknown",
            LinkChecks.nat(seeingClient(null, "10.0.0.5")));
    }

    @Test
    void shouldJudgeCudaVersionAgainstMinimum()
    {
        final CheckResult pass = DriverChecks.cudaVersion(versions("550.54.15", 12040, 3), 12000);
        assertEquals("CUDA version >= 12000", pass.name());
        assertResult(HealthStatus.PASS, "Current version: 12040", pass);
        assertResult(HealthStatus.FATAL, "Current version: 11080",
            DriverChecks.cudaVersion(versions("520.61.05", 11080, 3), 12000));
        assertEquals(HealthStatus.SKIPPED, DriverChecks.cudaVersion(versions("550.54.15", -1, 3), 12000).status());
    }

    @Test
    void shouldJudgeDriverVersionNumericallyNotAsText()
    {
        assertEquals(HealthStatus.PASS, DriverChecks.driverVersion(versions("535.104.5", 12020, 3), "525.60.13").status());
        assertEquals(HealthStatus.FATAL, DriverChecks.driverVersion(versions("470.82.01", 11040, 3), "525.60.13").status());
        assertResult(HealthStatus.MARGINAL, "Unable to parse GPU driver version: 550.x-beta",
            DriverChecks.driverVersion(versions("550.x-beta", 12040, 3), "525.60.13"));
        assertEquals(HealthStatus.SKIPPED, DriverChecks.driverVersion(versions(null, 12040, 3), "525.60.13").status());
    }

    @Test
    void shouldBeFatalWhenProtocolVersionsDiffer()
    {
        assertEquals(HealthStatus.PASS, DriverChecks.apiMismatch(versions("550.54.15", 12040, 3), CLIENT).status());
        assertResult(HealthStatus.FATAL,
            "Client protocol 3 (bitfusion 0.1.0), server protocol 4 (bitfusion 0.2.0)",
            DriverChecks.apiMismatch(versions("550.54.15", 12040, 4), CLIENT));
    }

    @Test
    void shouldJudgeTemperatureAgainstLimitAndCritical()
    {
        assertResult(HealthStatus.PASS, "Hottest: GPU 0 (A100) at 60C",
            GpuChecks.temperature(withGpu(gpu(60, EccState.ENABLED, 0, 0, ComputeMode.DEFAULT, 16)), 85, 95));
        assertResult(HealthStatus.MARGINAL, "Hottest: GPU 0 (A100) at 88C > 85C",
            GpuChecks.temperature(withGpu(gpu(88, EccState.ENABLED, 0, 0, ComputeMode.DEFAULT, 16)), 85, 95));
        assertResult(HealthStatus.FATAL, "Hottest: GPU 0 (A100) at 97C >= critical 95C",
            GpuChecks.temperature(withGpu(gpu(97, EccState.ENABLED, 0, 0, ComputeMode.DEFAULT, 16)), 85, 95));
        assertEquals(HealthStatus.SKIPPED,
            GpuChecks.temperature(withGpu(gpu(-1, EccState.ENABLED, 0, 0, ComputeMode.DEFAULT, 16)), 85, 95).status());
    }

    @Test
    void shouldJudgeEccErrorsBySeverity()
    {
        assertEquals(HealthStatus.PASS,
            GpuChecks.ecc(withGpu(gpu(40, EccState.ENABLED, 0, 0, ComputeMode.DEFAULT, 16))).status());
        assertResult(HealthStatus.MARGINAL, "GPU 0 (A100) 7 corrected",
            GpuChecks.ecc(withGpu(gpu(40, EccState.ENABLED, 7, 0, ComputeMode.DEFAULT, 16))));
        assertResult(HealthStatus.FATAL, "GPU 0 (A100) 2 uncorrected",
            GpuChecks.ecc(withGpu(gpu(40, EccState.ENABLED, 7, 2, ComputeMode.DEFAULT, 16))));
        assertResult(HealthStatus.INFO, "GPU 0 (A100) ECC disabled",
            GpuChecks.ecc(withGpu(gpu(40, EccState.DISABLED, 0, 0, ComputeMode.DEFAULT, 16))));
        assertEquals(HealthStatus.SKIPPED,
            GpuChecks.ecc(withGpu(gpu(40, EccState.UNKNOWN, 0, 0, ComputeMode.DEFAULT, 16))).status());
    }

    @Test
    void shouldJudgeComputeMode()
    {
        assertEquals(HealthStatus.PASS,
            GpuChecks.computeMode(withGpu(gpu(40, EccState.ENABLED, 0, 0, ComputeMode.EXCLUSIVE_PROCESS, 16))).status());
        assertEquals(HealthStatus.MARGINAL,
            GpuChecks.computeMode(withGpu(gpu(40, EccState.ENABLED, 0, 0, ComputeMode.EXCLUSIVE_THREAD, 16))).status());
        assertResult(HealthStatus.FATAL, "GPU 0 (A100) PROHIBITED",
            GpuChecks.computeMode(withGpu(gpu(40, EccState.ENABLED, 0, 0, ComputeMode.PROHIBITED, 16))));
        assertEquals(HealthStatus.SKIPPED, GpuChecks.computeMode(cuda(List.of())).status());
        assertEquals(ComputeMode.EXCLUSIVE_PROCESS, ComputeMode.fromCuValue(3));
    }

    @Test
    void shouldJudgeServerPcieLinkWidth()
    {
        assertEquals(HealthStatus.PASS,
            GpuChecks.pcieLinkWidth(withGpu(gpu(40, EccState.ENABLED, 0, 0, ComputeMode.DEFAULT, 16))).status());
        assertResult(HealthStatus.MARGINAL, "GPU 0 (A100) PCIe link width x8 < max x16",
            GpuChecks.pcieLinkWidth(withGpu(gpu(40, EccState.ENABLED, 0, 0, ComputeMode.DEFAULT, 8))));
        assertEquals(HealthStatus.FATAL,
            GpuChecks.pcieLinkWidth(withGpu(gpu(40, EccState.ENABLED, 0, 0, ComputeMode.DEFAULT, 0))).status());
        assertResult(HealthStatus.SKIPPED, "Cannot perform PCIe diagnosis without root access",
            GpuChecks.pcieLinkWidth(withGpu(gpu(40, EccState.ENABLED, 0, 0, ComputeMode.DEFAULT, -1))));
    }

    @Test
    void shouldPrintLatencyFigureAndThreshold()
    {
        final CheckResult fast = LinkChecks.latency(cuda(List.of(a100(0))), 50_000);
        assertEquals("round-trip latency <= 50.0 µs", fast.name());
        assertResult(HealthStatus.PASS, "Measured 20.0 µs", fast);

        final ServerFacts slow = new ServerFacts(ServerFactsFixtures.ADDRESS, BackendKind.CUDA, "0.1.0", 3,
            "550.54.15", 12040, List.of(a100(0)), null, -1, 123_456, -1, List.of(), null, null);
        assertResult(HealthStatus.MARGINAL, "Measured 123.5 µs", LinkChecks.latency(slow, 50_000));
        assertResult(HealthStatus.SKIPPED, "Bandwidth not measured", LinkChecks.bandwidth(slow, 1e9));
    }

    @Test
    void shouldPrintBandwidthFigureAndThreshold()
    {
        final CheckResult result = LinkChecks.bandwidth(cuda(List.of(a100(0))), 1e9);

        assertEquals("bandwidth >= 1.00 GB/s", result.name());
        assertResult(HealthStatus.PASS, "Measured 9.50 GB/s", result);
        assertEquals(HealthStatus.MARGINAL, LinkChecks.bandwidth(cuda(List.of(a100(0))), 10e9).status());
    }

    @Test
    void shouldJudgeP2pOnlyWithPeers()
    {
        assertEquals(HealthStatus.PASS, GpuChecks.p2p(cuda(List.of(a100(0), a100(1)))).status());
        assertEquals(HealthStatus.INFO, GpuChecks.p2p(cuda(List.of(a100(0)))).status());
    }

    @Test
    void shouldJudgeDeviceAttributes()
    {
        assertEquals(HealthStatus.PASS, GpuChecks.streamMemOps(cuda(List.of(a100(0)))).status());
        final GpuFacts lacking = new GpuFacts(1, "T4", 16L << 30, 40, EccState.ENABLED, 0, 0, ComputeMode.DEFAULT,
            16, 16, false, null);
        assertResult(HealthStatus.MARGINAL, "Not supported on GPU 1 (T4)",
            GpuChecks.streamMemOps(cuda(List.of(a100(0), lacking))));
        assertEquals(HealthStatus.SKIPPED, GpuChecks.hostPointerOnDevice(cuda(List.of(lacking))).status());
    }

    @Test
    void shouldJudgeServerShadowMemory()
    {
        assertEquals(HealthStatus.PASS, GpuChecks.shadowMemory(cuda(List.of(a100(0), a100(1)))).status());
        final ServerFacts small = new ServerFacts(ServerFactsFixtures.ADDRESS, BackendKind.CUDA, "0.1.0", 3,
            "550.54.15", 12040, List.of(a100(0), a100(1)), true, 32L << 30, -1, -1, List.of(), null, null);
        assertEquals(HealthStatus.MARGINAL, GpuChecks.shadowMemory(small).status());
        assertEquals(HealthStatus.FATAL, GpuChecks.gpuCount(cuda(List.of())).status());
    }
}
