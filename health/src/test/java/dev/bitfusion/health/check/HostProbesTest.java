package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.host.HostView;
import org.junit.jupiter.api.Test;

import static dev.bitfusion.health.Fixtures.host;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The sysfs and procfs probes against the fixture trees under src/test/resources/hosts.
 */
class HostProbesTest
{
    private static void assertResult(final HealthStatus status, final String detail, final CheckResult result)
    {
        assertEquals(status, result.status(), result::toString);
        assertEquals(detail, result.detail());
    }

    @Test
    void shouldPassOpenFilesLimitWhenAtLeastMinimum()
    {
        final CheckResult result = new OpenFilesLimitCheck(4096).run(host("pass"));

        assertEquals("ulimit -n >= 4096", result.name());
        assertResult(HealthStatus.PASS, "Current limit: 65536", result);
    }

    @Test
    void shouldPassOpenFilesLimitWhenUnlimited()
    {
        assertResult(HealthStatus.PASS, "Current limit: unlimited", new OpenFilesLimitCheck(4096).run(host("nogpu")));
    }

    @Test
    void shouldBeMarginalOnSoftOpenFilesLimitBelowMinimum()
    {
        assertResult(HealthStatus.MARGINAL, "Current limit: 1024 < 4096; raise it with ulimit -n 4096",
            new OpenFilesLimitCheck(4096).run(host("marginal")));
    }

    @Test
    void shouldSkipOpenFilesLimitWhenProcLimitsUnreadable()
    {
        final CheckResult result = new OpenFilesLimitCheck(4096).run(host("skipped"));

        assertEquals(HealthStatus.SKIPPED, result.status());
        assertEquals(true, result.detail().startsWith("Cannot read /proc/self/limits"), result.detail());
    }

    @Test
    void shouldPassMtuWhenHighSpeedInterfacesHaveJumboFrames()
    {
        final CheckResult result = new MtuCheck(4096, 10_000).run(host("pass"));

        assertEquals("MTU >= 4K on interfaces >= 10000Mbps", result.name());
        assertResult(HealthStatus.PASS, "MTU of high-speed interfaces: ens192 9000", result);
    }

    @Test
    void shouldBeMarginalWithSeedWordingWhenHighSpeedInterfaceHasLowMtu()
    {
        assertResult(HealthStatus.MARGINAL, "10000Mbps interface ens192 has low MTU: 1500 < 4K",
            new MtuCheck(4096, 10_000).run(host("marginal")));
    }

    @Test
    void shouldReportInfoWhenNoHighSpeedInterface()
    {
        assertResult(HealthStatus.INFO, "No interface at 10000Mbps or faster", new MtuCheck(4096, 10_000).run(host("nogpu")));
    }

    @Test
    void shouldSkipMtuWhenSysClassNetMissing()
    {
        assertEquals(HealthStatus.SKIPPED, new MtuCheck(4096, 10_000).run(host("skipped")).status());
    }

    @Test
    void shouldPassNetworkErrorsWhenAllCountersZero()
    {
        assertResult(HealthStatus.PASS,
            "No errors or drops on 2 interface(s) (rx_errors, tx_errors, rx_dropped, tx_dropped)",
            new NetworkErrorsCheck().run(host("pass")));
    }

    @Test
    void shouldNameTheCounterFileWhenInterfaceDroppedFrames()
    {
        assertResult(HealthStatus.MARGINAL, "/sys/class/net/ens192/statistics/rx_dropped = 12",
            new NetworkErrorsCheck().run(host("marginal")));
    }

    @Test
    void shouldSkipNetworkErrorsWhenSysClassNetMissing()
    {
        assertEquals(HealthStatus.SKIPPED, new NetworkErrorsCheck().run(host("skipped")).status());
    }

    @Test
    void shouldPassPcieWhenEveryNvidiaGpuAtMaxWidth()
    {
        assertResult(HealthStatus.PASS, "All 1 GPU(s) at max link width: 0000:3b:00.0 x16",
            new PcieLinkWidthCheck().run(host("pass")));
    }

    @Test
    void shouldBeMarginalWhenGpuLinkNarrowerThanMax()
    {
        assertResult(HealthStatus.MARGINAL, "GPU 0000:3b:00.0 PCIe link width x8 < max x16",
            new PcieLinkWidthCheck().run(host("marginal")));
    }

    @Test
    void shouldBeFatalWhenGpuLinkIsDown()
    {
        assertResult(HealthStatus.FATAL,
            "GPU 0000:3b:00.0 PCIe link is down (x0 of x16); GPU 0000:5e:00.0 PCIe link width x8 < max x16",
            new PcieLinkWidthCheck().run(host("fatal")));
    }

    @Test
    void shouldSkipPcieWithoutRootWhenLinkWidthUnreadable()
    {
        assertResult(HealthStatus.SKIPPED, "Cannot perform PCIe diagnosis without root access",
            new PcieLinkWidthCheck().run(host("skipped")));
    }

    @Test
    void shouldReportInfoWhenNoNvidiaGpu()
    {
        assertResult(HealthStatus.INFO, "No NVIDIA GPU on this host", new PcieLinkWidthCheck().run(host("nogpu")));
    }

    @Test
    void shouldPassShadowMemoryWhenHostMemoryCoversGpuMemory()
    {
        assertResult(HealthStatus.PASS, "Host memory 64.0 GiB >= GPU memory 40.0 GiB",
            ShadowMemoryCheck.run(host("pass"), 40L << 30));
    }

    @Test
    void shouldBeMarginalWhenHostMemoryBelowGpuMemory()
    {
        assertResult(HealthStatus.MARGINAL,
            "Host memory 8.0 GiB < GPU memory 40.0 GiB; full-memory copies may swap or fail",
            ShadowMemoryCheck.run(host("marginal"), 40L << 30));
    }

    @Test
    void shouldReportInfoWhenNoGpuMemoryToCompare()
    {
        assertResult(HealthStatus.INFO, "Host memory 64.0 GiB; no GPU memory total to compare with",
            ShadowMemoryCheck.run(host("pass"), 0));
    }

    @Test
    void shouldSkipShadowMemoryWhenMeminfoUnreadable()
    {
        assertEquals(HealthStatus.SKIPPED, ShadowMemoryCheck.run(host("skipped"), 40L << 30).status());
    }

    @Test
    void shouldShowHostPathsNotFixturePaths()
    {
        final HostView host = host("pass");

        assertEquals("/sys/class/net", host.displayPath(host.path("/sys/class/net")));
    }
}
