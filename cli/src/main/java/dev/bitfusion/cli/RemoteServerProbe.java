package dev.bitfusion.cli;

import dev.bitfusion.health.ServerAddress;
import dev.bitfusion.health.server.ServerFacts;
import dev.bitfusion.health.server.ServerProbe;
import dev.bitfusion.transport.Endpoint;

import java.io.PrintStream;

/**
 * The {@link ServerProbe} of {@code bitfusion health}: asks the server for its facts with the client's
 * token ({@link HealthFactsQuery}), then measures latency and bandwidth through a real session
 * ({@link LinkMeasurement}).
 * <p>
 * A server that does not answer or refuses the token fails the probe, and its section becomes one FATAL
 * line. A measurement that fails after the server answered (no room for the slice, a protocol mismatch
 * the facts already report) leaves latency and bandwidth unmeasured, says why on the error stream, and
 * keeps the rest of the section.
 * <p>
 * Thread safety: immutable; probes may run concurrently, though {@code bitfusion health} runs them one
 * after another so that measurements do not disturb each other.
 */
final class RemoteServerProbe implements ServerProbe
{
    private final String token;
    private final long timeoutNs;
    private final PrintStream notes;

    /**
     * @param token     the token to present, as {@code bitfusion run} would.
     * @param timeoutNs how long to wait for each answer and for the session to open.
     * @param notes     where to say why a measurement could not be made.
     */
    RemoteServerProbe(final String token, final long timeoutNs, final PrintStream notes)
    {
        this.token = token;
        this.timeoutNs = timeoutNs;
        this.notes = notes;
    }

    public ServerFacts probe(final ServerAddress address)
    {
        final Endpoint server = new Endpoint(address.host(), address.port());
        final ServerFacts facts = HealthFactsQuery.query(server, token, timeoutNs);
        final LinkMeasurement.Result link;
        try
        {
            link = LinkMeasurement.measure(server, token, timeoutNs);
        }
        catch (final RuntimeException ex)
        {
            notes.println("bitfusion health: latency and bandwidth to " + address + " not measured: " + ex.getMessage());
            return facts;
        }
        return new ServerFacts(facts.address(), facts.backend(), facts.bitfusionVersion(), facts.protocolVersion(),
            facts.driverVersion(), facts.cudaDriverVersion(), facts.gpus(), facts.p2pSupported(),
            facts.hostMemoryBytes(), link.latencyNs(), link.bandwidthBytesPerSec(), facts.hostChecks(),
            facts.clientAddress(), facts.observedClientAddress());
    }
}
