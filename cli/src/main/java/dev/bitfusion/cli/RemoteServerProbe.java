package dev.bitfusion.cli;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.agent.pool.ServerFanOut;
import dev.bitfusion.health.ServerAddress;
import dev.bitfusion.health.server.ServerFacts;
import dev.bitfusion.health.server.ServerProbe;
import dev.bitfusion.transport.Endpoint;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link ServerProbe} of {@code bitfusion health}. Before any section is written it asks the whole pool at once,
 * as {@code bitfusion run} and {@code list_gpus} do ({@link PoolQuery#listGpusOfAll}), and then every server that
 * answered for its facts with the client's token ({@link HealthFactsQuery}), again all at once
 * ({@link ServerFanOut}); each {@link #probe} then measures latency and bandwidth through a real session
 * ({@link LinkMeasurement}), one server after another so that measurements do not disturb each other.
 * <p>
 * A server that does not answer the pool's question, or does not answer or refuses the token when asked for its
 * facts, fails the probe, and its section becomes one FATAL line. A measurement that fails after the server
 * answered (no room for the slice, a protocol mismatch the facts already report) leaves latency and bandwidth
 * unmeasured, says why on the error stream, and keeps the rest of the section.
 * <p>
 * Thread safety: {@link #probe} from one thread at a time.
 */
final class RemoteServerProbe implements ServerProbe
{
    private final Map<ServerAddress, ServerFanOut.Reply<ServerFacts>> facts;
    private final String token;
    private final long timeoutNs;
    private final PrintStream notes;

    private RemoteServerProbe(
        final Map<ServerAddress, ServerFanOut.Reply<ServerFacts>> facts,
        final String token,
        final long timeoutNs,
        final PrintStream notes)
    {
        this.facts = facts;
        this.token = token;
        this.timeoutNs = timeoutNs;
        this.notes = notes;
    }

    /**
     * Ask every server for its facts, all at once.
     *
     * @param servers   the pool.
     * @param token     the token to present, as {@code bitfusion run} would.
     * @param timeoutNs how long to wait for each answer and for a measuring session to open.
     * @param notes     where to say why a measurement could not be made.
     * @return the probe, each server's facts (or why there are none) in hand.
     */
    static RemoteServerProbe ask(
        final List<Endpoint> servers, final String token, final long timeoutNs, final PrintStream notes)
        throws InterruptedException
    {
        final Map<ServerAddress, ServerFanOut.Reply<ServerFacts>> facts = new HashMap<>();
        final Map<Endpoint, String> unreachable = new HashMap<>();
        for (final PoolQuery.Answer answer :
            PoolQuery.listGpusOfAll(servers, ClientSettings.discoverQueryCredentials(), timeoutNs))
        {
            // A refusal of the credentials is an answer: the facts query says what is wrong with the token.
            if (answer.gpus() == null && !answer.refused())
            {
                unreachable.put(answer.server(), answer.error());
            }
        }
        for (final ServerFanOut.Reply<ServerFacts> reply : ServerFanOut.ask(servers, server ->
        {
            final String why = unreachable.get(server);
            if (why != null)
            {
                throw new HealthProbeException(why);
            }
            return HealthFactsQuery.query(server, token, timeoutNs);
        }))
        {
            facts.put(addressOf(reply.server()), reply);
        }
        return new RemoteServerProbe(facts, token, timeoutNs, notes);
    }

    public ServerFacts probe(final ServerAddress address)
    {
        final ServerFanOut.Reply<ServerFacts> reply = facts.get(address);
        if (reply == null)
        {
            throw new IllegalArgumentException("server " + address + " was not among those asked");
        }
        if (reply.failure() != null)
        {
            throw reply.failure();
        }
        final ServerFacts answered = reply.answer();
        final LinkMeasurement.Result link;
        try
        {
            link = LinkMeasurement.measure(new Endpoint(address.host(), address.port()), token, timeoutNs);
        }
        catch (final RuntimeException ex)
        {
            notes.println("bitfusion health: latency and bandwidth to " + address + " not measured: " + ex.getMessage());
            return answered;
        }
        return new ServerFacts(answered.address(), answered.backend(), answered.bitfusionVersion(),
            answered.protocolVersion(), answered.driverVersion(), answered.cudaDriverVersion(), answered.gpus(),
            answered.p2pSupported(), answered.hostMemoryBytes(), link.latencyNs(), link.bandwidthBytesPerSec(),
            answered.hostChecks(), answered.clientAddress(), answered.observedClientAddress());
    }

    private static ServerAddress addressOf(final Endpoint server)
    {
        return new ServerAddress(server.host(), server.port());
    }
}
