package dev.bitfusion.cli;

import dev.bitfusion.agent.javaagent.NativeLibraries;
import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.health.BitfusionVersion;
import dev.bitfusion.health.HealthReport;
import dev.bitfusion.health.HealthRun;
import dev.bitfusion.health.LocalHealthOptions;
import dev.bitfusion.health.ServerAddress;
import dev.bitfusion.health.host.HostView;
import dev.bitfusion.health.report.JsonReportWriter;
import dev.bitfusion.health.report.TextReportWriter;
import dev.bitfusion.health.server.ClientInfo;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code bitfusion health}: one report section per configured server (its facts, its own host checks, and
 * the latency and bandwidth measured to it), then one for this host. Exit code 0 unless a check is FATAL. The servers
 * are asked at once, first for the pool's GPUs as {@code bitfusion run} asks, then for their facts
 * ({@link RemoteServerProbe}); only the measurements go one server after another.
 * <p>
 * Servers come from {@code --server_list}, else {@code BITFUSION_SERVERS}, else the servers file
 * ({@link dev.bitfusion.agent.ServerConfig}).
 */
@Command(name = "health", mixinStandardHelpOptions = true,
    description = "Check this host and every configured server for what would limit or prevent remote GPUs.")
final class HealthCommand implements Callable<Integer>
{
    @Option(names = "--server_list", paramLabel = "HOST:PORT,...",
        description = "Servers to check (else BITFUSION_SERVERS, else ~/.bitfusion/servers.conf or /etc/bitfusion/servers.conf).")
    String serverList;

    @Option(names = "--json", description = "Print the report as JSON, for machines.")
    boolean json;

    @Option(names = "--timeout-ms", paramLabel = "MS",
        description = "How long to wait for each server's answer (default 10000; it runs its own checks first).")
    long timeoutMs = 10_000;

    public Integer call() throws Exception
    {
        final List<Endpoint> endpoints = ServerList.resolve(serverList);
        if (endpoints.isEmpty())
        {
            System.err.println("bitfusion health: no server configured (--server_list, BITFUSION_SERVERS or " +
                "servers.conf); checking this host only");
        }
        final List<ServerAddress> servers = new ArrayList<>();
        for (final Endpoint endpoint : endpoints)
        {
            servers.add(new ServerAddress(endpoint.host(), endpoint.port()));
        }

        final RemoteServerProbe probe = RemoteServerProbe.ask(
            endpoints, new ClientSettings().token(), TimeUnit.MILLISECONDS.toNanos(timeoutMs), System.err);
        final List<HealthReport> reports = HealthRun.run(
            HostView.system(), localOptions(), servers, probe, new ClientInfo(BitfusionVersion.current(), Protocol.VERSION));

        (json ? new JsonReportWriter() : new TextReportWriter()).write(reports, System.out);
        System.out.flush();
        return HealthReport.exitCode(reports);
    }

    /**
     * @return the options of the localhost section for the distribution this command runs from; the
     * libcuda.so.1 checked is the one {@code bitfusion run} puts in front of programs.
     */
    static LocalHealthOptions localOptions()
    {
        final String root = InstallRoot.discover();
        final LocalHealthOptions options =
            null == root ? LocalHealthOptions.defaults() : LocalHealthOptions.forInstall(root);
        String library;
        try
        {
            library = NativeLibraries.extract(RunCommand.class).resolve(NativeLibraries.DRIVER).toString();
        }
        catch (final java.io.IOException | RuntimeException ex)
        {
            library = null == root ? null : root + "/lib/libcuda.so.1";
        }
        return new LocalHealthOptions(options.servers(), options.gpuMemoryBytes(), options.installRoot(),
            null == library ? List.of() : List.of(library), options.thresholds());
    }
}
