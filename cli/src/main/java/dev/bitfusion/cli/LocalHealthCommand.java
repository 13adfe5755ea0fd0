package dev.bitfusion.cli;

import dev.bitfusion.health.HealthReport;
import dev.bitfusion.health.LocalHealth;
import dev.bitfusion.health.host.HostView;
import dev.bitfusion.health.report.JsonReportWriter;
import dev.bitfusion.health.report.TextReportWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code bitfusion localhealth}: the localhost section of {@code bitfusion health} alone, asking no server.
 * Exit code 0 unless a check is FATAL.
 */
@Command(name = "localhealth", mixinStandardHelpOptions = true,
    description = "Check this host alone for what would limit or prevent remote GPUs.")
final class LocalHealthCommand implements Callable<Integer>
{
    @Option(names = "--json", description = "Print the report as JSON, for machines.")
    boolean json;

    public Integer call() throws Exception
    {
        final List<HealthReport> reports = List.of(LocalHealth.run(HostView.system(), HealthCommand.localOptions()));
        (json ? new JsonReportWriter() : new TextReportWriter()).write(reports, System.out);
        System.out.flush();
        return HealthReport.exitCode(reports);
    }
}
