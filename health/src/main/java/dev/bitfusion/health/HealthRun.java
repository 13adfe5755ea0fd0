package dev.bitfusion.health;

import dev.bitfusion.health.host.HostView;
import dev.bitfusion.health.server.ClientInfo;
import dev.bitfusion.health.server.ServerFacts;
import dev.bitfusion.health.server.ServerProbe;

import java.util.ArrayList;
import java.util.List;

/**
 * All of {@code bitfusion health}: one section per server, then localhost.
 * <pre>{@code
 * List<HealthReport> reports = HealthRun.run(
 *     HostView.system(), LocalHealthOptions.forInstall(installRoot), servers, probe, clientInfo);
 * (json ? new JsonReportWriter() : new TextReportWriter()).write(reports, System.out);
 * return HealthReport.exitCode(reports);
 * }</pre>
 * A server whose probe fails gets a section with one FATAL line carrying the failure's message, and the
 * other sections still run. The localhost section compares host memory with the total GPU memory of the
 * servers that answered.
 * <p>
 * Stateless; servers are probed one after another so measurements do not disturb each other.
 */
public final class HealthRun
{
    private HealthRun()
    {
    }

    /**
     * @param host         the local host.
     * @param localOptions install root, native libraries and thresholds for the localhost section; its
     *                     servers and GPU memory are replaced by those probed here.
     * @param servers      the configured servers, in the order to report them.
     * @param probe        asks a server for its facts.
     * @param client       the client's versions.
     * @return the server sections in order, then localhost.
     */
    public static List<HealthReport> run(
        final HostView host,
        final LocalHealthOptions localOptions,
        final List<ServerAddress> servers,
        final ServerProbe probe,
        final ClientInfo client)
    {
        final List<HealthReport> reports = new ArrayList<>();
        long gpuMemoryBytes = 0;
        for (final ServerAddress server : servers)
        {
            final ServerFacts facts;
            try
            {
                facts = probe.probe(server);
            }
            catch (final Exception ex)
            {
                reports.add(ServerHealth.unreachable(server, reasonOf(ex)));
                continue;
            }
            gpuMemoryBytes += facts.gpuMemoryTotalBytes();
            reports.add(ServerHealth.evaluate(facts, client, localOptions.thresholds()));
        }

        reports.add(LocalHealth.run(host, localOptions.withServers(servers, gpuMemoryBytes)));
        return reports;
    }

    private static String reasonOf(final Exception ex)
    {
        final String message = ex.getMessage();
        return null == message || message.isBlank() ? ex.getClass().getSimpleName() : message;
    }
}
