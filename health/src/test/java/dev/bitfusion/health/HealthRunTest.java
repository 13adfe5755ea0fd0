package dev.bitfusion.health;

import dev.bitfusion.health.report.TextReportWriter;
import dev.bitfusion.health.server.BackendKind;
import dev.bitfusion.health.server.ClientInfo;
import dev.bitfusion.health.server.ComputeMode;
import dev.bitfusion.health.server.EccState;
import dev.bitfusion.health.server.GpuFacts;
import dev.bitfusion.health.server.ServerFacts;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HealthRunTest
{
    @Test
    void shouldReportDeadServerFatalAndStillPrintOtherSections()
    {
        final ServerAddress alive = ServerAddress.parse("127.0.0.1:56001");
        final ServerAddress dead = ServerAddress.parse("127.0.0.1:56002");
        final GpuFacts gpu = new GpuFacts(0, "NVIDIA H200", 140L << 30, 40, EccState.ENABLED, 0, 0,
            ComputeMode.DEFAULT, 16, 16, true, true);

        final List<HealthReport> reports = HealthRun.run(Fixtures.host("pass"), LocalHealthOptions.defaults(),
            List.of(dead, alive),
            (address) ->
            {
                if (dead.equals(address))
                {
                    throw new IOException("No answer from 127.0.0.1:56002 within 5 s");
                }
                return new ServerFacts(address, BackendKind.CUDA, "0.1.0", 3, "550.54.15", 12040, List.of(gpu),
                    null, 256L << 30, 10_000, 9e9, List.of(), null, null);
            },
            new ClientInfo("0.1.0", 3));

        assertEquals(List.of("127.0.0.1:56002", "127.0.0.1:56001", "localhost"),
            reports.stream().map(HealthReport::target).toList());
        assertEquals(HealthStatus.FATAL, reports.get(0).results().get(0).status());
        assertEquals("No answer from 127.0.0.1:56002 within 5 s", reports.get(0).results().get(0).detail());
        assertEquals(0, reports.get(1).counts().get(HealthStatus.FATAL));
        // the localhost fixture has 64 GiB against the answering server's 140 GiB of GPU memory
        assertTrue(reports.get(2).results().stream().anyMatch((r) ->
            r.detail().equals("Host memory 64.0 GiB < GPU memory 140.0 GiB; full-memory copies may swap or fail")),
            () -> new TextReportWriter().render(reports));
        assertEquals(1, HealthReport.exitCode(reports));
    }
}
