package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.host.CommandResult;
import dev.bitfusion.health.host.HostView;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.bitfusion.health.Fixtures.host;
import static org.junit.jupiter.api.Assertions.assertEquals;

class XidErrorCheckTest
{
    private static final String CLEAN_LOG = """
        [    0.000000] Linux version 6.1.0
        [    5.123456] nvidia: loading out-of-tree module taints kernel.
        """;

    private static HostView withDmesg(final String fixture, final CommandResult result, final List<List<String>> calls)
    {
        return host(fixture).withCommandRunner((command) ->
        {
            calls.add(command);
            return result;
        });
    }

    @Test
    void shouldPassWhenKernelLogHasNoXid()
    {
        final List<List<String>> calls = new ArrayList<>();
        final CheckResult result = new XidErrorCheck().run(withDmesg("pass", new CommandResult(0, CLEAN_LOG, ""), calls));

        assertEquals(HealthStatus.PASS, result.status());
        assertEquals("No Xid errors in the kernel log", result.detail());
        assertEquals(List.of(List.of("dmesg")), calls);
    }

    @Test
    void shouldBeMarginalWhenApplicationXidLogged()
    {
        final String log = CLEAN_LOG +
            "[ 1234.5] NVRM: Xid (PCI:0000:3b:00): 13, pid=4242, Graphics SM Warp Exception\n" +
            "[ 1235.5] NVRM: Xid (PCI:0000:3b:00): 13, pid=4242, Graphics SM Warp Exception\n" +
            "[ 1236.5] NVRM: Xid (PCI:0000:3b:00): 31, pid=4242, MMU Fault\n";
        final CheckResult result = new XidErrorCheck().run(withDmesg("pass", new CommandResult(0, log, ""), new ArrayList<>()));

        assertEquals(HealthStatus.MARGINAL, result.status());
        assertEquals("PCI:0000:3b:00 Xid 13 (x2), PCI:0000:3b:00 Xid 31", result.detail());
    }

    @Test
    void shouldBeFatalWhenGpuFellOffTheBus()
    {
        final String log = "[ 99.0] NVRM: Xid (PCI:0000:5e:00): 79, pid='<unknown>', GPU has fallen off the bus.\n";
        final CheckResult result = new XidErrorCheck().run(withDmesg("pass", new CommandResult(0, log, ""), new ArrayList<>()));

        assertEquals(HealthStatus.FATAL, result.status());
        assertEquals("PCI:0000:5e:00 Xid 79", result.detail());
    }

    @Test
    void shouldSkipWithReasonWhenKernelLogRestricted()
    {
        final CommandResult denied = new CommandResult(1, "", "dmesg: read kernel buffer failed: Operation not permitted\n");
        final CheckResult result = new XidErrorCheck().run(withDmesg("pass", denied, new ArrayList<>()));

        assertEquals(HealthStatus.SKIPPED, result.status());
        assertEquals("Cannot read the kernel log: dmesg: read kernel buffer failed: Operation not permitted",
            result.detail());
    }

    @Test
    void shouldReportInfoWithoutReadingLogWhenNoNvidiaGpu()
    {
        final List<List<String>> calls = new ArrayList<>();
        final CheckResult result = new XidErrorCheck().run(withDmesg("nogpu", new CommandResult(0, "", ""), calls));

        assertEquals(HealthStatus.INFO, result.status());
        assertEquals(List.of(), calls);
    }
}
