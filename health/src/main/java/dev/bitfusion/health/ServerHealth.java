package dev.bitfusion.health;

import dev.bitfusion.health.server.ClientInfo;
import dev.bitfusion.health.server.DriverChecks;
import dev.bitfusion.health.server.GpuChecks;
import dev.bitfusion.health.server.LinkChecks;
import dev.bitfusion.health.server.ServerFacts;

import java.util.ArrayList;
import java.util.List;

/**
 * The section of one server in {@code bitfusion health}, judged from the {@link ServerFacts} the server
 * reported and the client measured.
 * <p>
 * Use from the CLI, for each configured server:
 * <pre>{@code
 * HealthReport section = facts != null ?
 *     ServerHealth.evaluate(facts, new ClientInfo(version, protocolVersion), HealthThresholds.DEFAULTS) :
 *     ServerHealth.unreachable(address, "connection timed out after 5 s");
 * }</pre>
 * A server that does not answer, or rejects the token, gets a section of its own with one FATAL line,
 * and the other sections still print.
 * <p>
 * Stateless and thread-safe.
 */
public final class ServerHealth
{
    private ServerHealth()
    {
    }

    /**
     * @param facts      what the server reported and the client measured.
     * @param client     the client's versions.
     * @param thresholds the limits to check against.
     * @return the server's section: its GPU checks, then the host checks it ran itself.
     */
    public static HealthReport evaluate(
        final ServerFacts facts, final ClientInfo client, final HealthThresholds thresholds)
    {
        final List<CheckResult> results = new ArrayList<>();

        results.add(DriverChecks.cudaVersion(facts, thresholds.minCudaDriverVersion()));
        results.add(DriverChecks.driverVersion(facts, thresholds.minDriverVersion()));

        results.add(LinkChecks.connected(facts));
        results.add(LinkChecks.nat(facts));
        results.add(GpuChecks.gpuCount(facts));
        results.add(GpuChecks.shadowMemory(facts));

        results.add(GpuChecks.pcieLinkWidth(facts));
        results.add(GpuChecks.streamMemOps(facts));
        results.add(GpuChecks.hostPointerOnDevice(facts));
        results.add(LinkChecks.latency(facts, thresholds.maxLatencyNs()));
        results.add(LinkChecks.bandwidth(facts, thresholds.minBandwidthBytesPerSec()));

        results.add(GpuChecks.p2p(facts));
        results.add(DriverChecks.apiMismatch(facts, client));
        results.add(GpuChecks.temperature(facts, thresholds.temperatureLimitC(), thresholds.temperatureCriticalC()));
        results.add(GpuChecks.ecc(facts));
        results.add(GpuChecks.computeMode(facts));

        results.addAll(facts.hostChecks());
        return new HealthReport(facts.address().toString(), results);
    }

    /**
     * @param address the server as configured.
     * @param reason  why it did not answer or refused the client, for a person.
     * @return a section with one FATAL connectivity line.
     */
    public static HealthReport unreachable(final ServerAddress address, final String reason)
    {
        return new HealthReport(address.toString(), List.of(LinkChecks.unreachable(reason)));
    }
}
