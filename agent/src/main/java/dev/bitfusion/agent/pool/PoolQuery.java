package dev.bitfusion.agent.pool;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.wire.ClientLink;
import dev.bitfusion.agent.wire.ControlClient;
import dev.bitfusion.agent.wire.QueryRefusedException;
import dev.bitfusion.agent.wire.SessionRefusedException;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.auth.Credentials;
import dev.bitfusion.transport.auth.Handshakes;
import dev.bitfusion.transport.protocol.GpuListDecoder;
import dev.bitfusion.transport.protocol.ListGpusEncoder;
import dev.bitfusion.transport.protocol.MessageHeaderDecoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import dev.bitfusion.transport.protocol.SessionStatus;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;

/**
 * Asks a server for its GPUs and slices over UDP, without opening a session.
 * <p>
 * A server with a token answers only a proof of it, and shows who holds each slice only to its administrator's
 * token, or to the asker for its own slices (those whose client id carries the asker's tag).
 * <p>
 * Thread safety: each call uses its own link; calls may run concurrently.
 */
public final class PoolQuery
{
    private PoolQuery()
    {
    }

    /**
     * Ask with the credentials this user has: the administrator's token when there is one, else the token.
     *
     * @param server    the server.
     * @param timeoutNs how long to wait for its answer.
     * @return what it reports.
     * @throws SessionRefusedException when it does not answer in time, {@link QueryRefusedException} when it refuses
     * the credentials.
     */
    public static GpuPoolInfo listGpus(final Endpoint server, final long timeoutNs)
    {
        return listGpus(server, ClientSettings.discoverQueryCredentials(), "", timeoutNs);
    }

    /**
     * @param credentials what to prove.
     * @param clientTag   the tag in the client ids of the asker's own sessions, or empty.
     */
    public static GpuPoolInfo listGpus(
        final Endpoint server, final Credentials credentials, final String clientTag, final long timeoutNs)
    {
        return listGpus(server, credentials, clientTag, null, timeoutNs).gpus();
    }

    /**
     * A client waiting in line for room: it renews its place on each server with every listing it asks for.
     *
     * @param ticket    its ticket, positive, random, the same on every server.
     * @param sinceMs   when it began to wait, the same on every server: servers order waiters by it, then the ticket.
     * @param fraction  its slice as a fraction of a GPU, or 0.
     * @param megabytes its slice in MiB, or 0: a server none of whose GPUs could ever hold it does not put it in line.
     */
    public record WaitTicket(long ticket, long sinceMs, double fraction, long megabytes)
    {
        /**
         * @return the ticket that leaves the line: sent once the client got its slices or stopped waiting.
         */
        public WaitTicket leaving()
        {
            return new WaitTicket(-ticket, sinceMs, fraction, megabytes);
        }
    }

    /**
     * @param waitTicket the asker's place in line, renewed by this ask, or null when it does not wait.
     * @return what the server reports, with no error.
     */
    static Answer listGpus(
        final Endpoint server,
        final Credentials credentials,
        final String clientTag,
        final WaitTicket waitTicket,
        final long timeoutNs)
    {
        final long ticket = waitTicket != null ? waitTicket.ticket() : 0;
        final long sinceMs = waitTicket != null ? waitTicket.sinceMs() : 0;
        final double fraction = waitTicket != null ? waitTicket.fraction() : 0;
        final long megabytes = waitTicket != null ? waitTicket.megabytes() : 0;
        try (ClientLink link = ClientLink.towards(server, "udp", "query");
            ControlClient control = new ControlClient(link, server))
        {
            final long correlationId = ControlClient.newCorrelationId();
            final long timestampMs = System.currentTimeMillis();
            final byte[] proof = credentials.prove(Handshakes.listGpus(
                correlationId, control.replyStreamId(), timestampMs, ticket, sinceMs, fraction, megabytes));
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1024]);
            final ListGpusEncoder encoder = new ListGpusEncoder()
                .wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
                .correlationId(correlationId)
                .replyStreamId(control.replyStreamId())
                .timestampMs(timestampMs)
                .waitTicket(ticket)
                .waitSinceMs(sinceMs)
                .waitMemoryFraction(fraction)
                .waitMemoryMb(megabytes)
                .putAuthProof(proof, 0, proof.length)
                .clientTag(clientTag)
                .putPadding(ControlClient.REFUSAL_ROOM, 0, ControlClient.REFUSAL_ROOM.length);

            final Answer[] answer = new Answer[1];
            final String[] refusal = new String[1];
            final MessageHeaderDecoder header = new MessageHeaderDecoder();
            final GpuListDecoder decoder = new GpuListDecoder();
            control.exchange(buffer, MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength(),
                (message, offset, length, frame) ->
                {
                    header.wrap(message, offset);
                    if (header.templateId() == GpuListDecoder.TEMPLATE_ID && header.schemaId() == GpuListDecoder.SCHEMA_ID)
                    {
                        decoder.wrapAndApplyHeader(message, offset, header);
                        if (decoder.correlationId() != correlationId)
                        {
                            return;
                        }
                        if (decoder.status() != SessionStatus.OPENED)
                        {
                            refusal[0] = refusalOf(decoder);
                        }
                        else
                        {
                            final int waiters = decoder.waiters();
                            final int waitersAhead = decoder.waitersAhead();
                            answer[0] = new Answer(server, decode(decoder), null, waiters, waitersAhead, false);
                        }
                    }
                },
                () -> answer[0] != null || refusal[0] != null, timeoutNs);
            if (refusal[0] != null)
            {
                throw new QueryRefusedException("bitfusion server " + server + " refused to list its GPUs: " + refusal[0]);
            }
            return answer[0];
        }
    }

    /**
     * What one server answered, or why it did not.
     *
     * @param server       where it is.
     * @param gpus         its answer, or null when it gave none.
     * @param error        why it gave none, or null.
     * @param waiters      how many clients wait in line for room there.
     * @param waitersAhead how many of them are ahead of the asker, or -1 when the asker is not in line there.
     * @param refused      true when it answered but refused the credentials (it is up): else, with no answer, it was
     *                     not reached.
     */
    public record Answer(Endpoint server, GpuPoolInfo gpus, String error, int waiters, int waitersAhead, boolean refused)
    {
    }

    /**
     * Ask every server at once ({@link ServerFanOut}), so a pool of many servers, some of them down, answers in about
     * one timeout rather than one per server.
     *
     * @param servers     the pool.
     * @param credentials what to prove.
     * @param timeoutNs   how long to wait for each server.
     * @return one answer per server, in the order given.
     */
    public static List<Answer> listGpusOfAll(
        final List<Endpoint> servers, final Credentials credentials, final long timeoutNs) throws InterruptedException
    {
        return listGpusOfAll(servers, credentials, null, timeoutNs);
    }

    /**
     * @param waitTicket the asker's place in line, renewed on every server, or null when it does not wait.
     */
    public static List<Answer> listGpusOfAll(
        final List<Endpoint> servers,
        final Credentials credentials,
        final WaitTicket waitTicket,
        final long timeoutNs) throws InterruptedException
    {
        final List<Answer> answers = new ArrayList<>();
        for (final ServerFanOut.Reply<Answer> reply :
            ServerFanOut.ask(servers, server -> listGpus(server, credentials, "", waitTicket, timeoutNs)))
        {
            answers.add(reply.answer() != null ? reply.answer() : new Answer(reply.server(), null, reply.reason(), 0, -1,
                reply.failure() instanceof QueryRefusedException));
        }
        return answers;
    }

    private static String refusalOf(final GpuListDecoder decoder)
    {
        final SessionStatus status = decoder.status();
        for (final GpuListDecoder.GpusDecoder gpu : decoder.gpus())
        {
            // A refusal lists no GPUs; step over the group to reach the message.
            gpu.skipName();
        }
        decoder.skipBackend();
        return status + ": " + decoder.message();
    }

    private static GpuPoolInfo decode(final GpuListDecoder decoder)
    {
        final int protocolVersion = decoder.protocolVersion();
        final int openSessions = decoder.openSessions();
        final List<GpuPoolInfo.Gpu> gpus = new ArrayList<>();
        for (final GpuListDecoder.GpusDecoder gpu : decoder.gpus())
        {
            final int index = gpu.index();
            final long total = gpu.totalBytes();
            final long unreserved = gpu.unreservedBytes();
            final long allocated = gpu.allocatedBytes();
            final List<GpuPoolInfo.Slice> slices = new ArrayList<>();
            for (final GpuListDecoder.GpusDecoder.SlicesDecoder slice : gpu.slices())
            {
                final long sessionId = slice.sessionId();
                final long sliceBytes = slice.sliceBytes();
                final long sliceAllocated = slice.allocatedBytes();
                // A server before protocol 5 does not say: its null values (the type's minimum) read as -1.
                final long ageMs = Math.max(-1, slice.ageMs());
                final long calls = Math.max(-1, slice.calls());
                final long bytes = Math.max(-1, slice.bytes());
                final int sessions = Math.max(-1, slice.sessions());
                slices.add(new GpuPoolInfo.Slice(
                    sessionId, slice.clientId(), sliceBytes, sliceAllocated, ageMs, sessions, calls, bytes));
            }
            gpus.add(new GpuPoolInfo.Gpu(index, gpu.name(), total, unreserved, allocated, slices));
        }
        final String backend = decoder.backend();
        decoder.skipMessage();
        return new GpuPoolInfo(backend, protocolVersion, openSessions, gpus,
            decoder.hostname(), decoder.cudaVersion(), decoder.driverVersion());
    }
}
