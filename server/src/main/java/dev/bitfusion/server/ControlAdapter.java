package dev.bitfusion.server;

import dev.bitfusion.server.backend.GpuBackend;
import dev.bitfusion.server.health.HealthResponder;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.TransportSettings;
import dev.bitfusion.transport.auth.Credentials;
import dev.bitfusion.transport.auth.Handshakes;
import dev.bitfusion.transport.auth.KeyExchange;
import dev.bitfusion.server.status.ServerCounters;
import dev.bitfusion.transport.protocol.HealthQueryDecoder;
import dev.bitfusion.transport.protocol.ListGpusDecoder;
import dev.bitfusion.transport.protocol.MessageBounds;
import dev.bitfusion.transport.protocol.MessageHeaderDecoder;
import dev.bitfusion.transport.protocol.SessionOpenDecoder;
import dev.bitfusion.transport.protocol.SessionStatus;
import io.aeron.Aeron;
import io.aeron.Counter;
import io.aeron.FragmentAssembler;
import io.aeron.Image;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;

import java.util.function.Consumer;

/**
 * Receives the control stream, on UDP and on IPC: checks each message's header, schema and length, decodes it and
 * hands it on: a SessionOpen to the {@link SessionAdmission}, a ListGpus to the {@link ControlReplyProxy} with the
 * pool as it stands, a HealthQuery to the {@link HealthResponder}. It shares a thread with the
 * {@link ControlReplySender}, never waits on a session, and no session waits on it.
 * <p>
 * Each source (see {@link SourceRateLimiter}) is served at a bounded rate: requests past it are ignored before
 * anything is read, counted on the control requests limited counter. Every length and count of a request is
 * checked ({@link MessageBounds}, generated from the schema) before it is decoded; a request that fails is refused
 * with the reason (its fixed fields, the correlation id among them, are always readable), an unknown one is
 * ignored with an error logged.
 * <p>
 * A reply goes back on the path its request came by, never to an address a message names: over UDP on the Aeron
 * response channel of the request's image (the client's reply subscription reached out to the server's response
 * port, so the answer crosses the NAT and firewalls the request crossed), over IPC on the stream the request
 * names. A request that does not prove the server's token, or cannot be read, is refused in no more bytes than
 * it had.
 * <p>
 * Thread safety: the control thread only.
 */
final class ControlAdapter implements Agent, FragmentHandler
{
    /** Messages taken from each control subscription per turn. */
    static final int FRAGMENT_LIMIT = 16;
    static final String RATE_LIMITED_MESSAGE =
        "control: requests past a source's rate limit ignored (see the control requests limited counter)";

    private final Aeron aeron;
    private final Endpoint endpoint;
    private final TransportSettings transportSettings;
    private final String ipcReplyChannel;
    private final TokenAuthenticator authenticator;
    private final Subscription udpControl;
    private final Subscription ipcControl;
    private final SessionAdmission admission;
    private final ControlReplyProxy replyProxy;
    private final SessionRegistry registry;
    private final GpuBackend backend;
    private final String hostname;
    private final HealthResponder healthResponder;
    private final ServerErrorLog errorLog;
    private final Consumer<String> onTransportClosed;
    private final FragmentAssembler udpAssembler = new FragmentAssembler(this);
    private final FragmentAssembler ipcAssembler = new FragmentAssembler(this);
    private final MessageBounds bounds = new MessageBounds();
    private final SourceRateLimiter rateLimiter;
    private final Counter limited;
    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final SessionOpenDecoder openDecoder = new SessionOpenDecoder();
    private final ListGpusDecoder listGpusDecoder = new ListGpusDecoder();
    private boolean pollingIpc;

    /**
     * @param udpControl        the control stream over UDP; closed with this adapter.
     * @param ipcControl        the control stream over IPC; closed with this adapter.
     * @param healthSender      sends health facts, from the health responder's worker.
     * @param onTransportClosed told why, once, when the server's Aeron client has closed under it.
     */
    ControlAdapter(
        final GpuServer.Context context,
        final Aeron aeron,
        final Subscription udpControl,
        final Subscription ipcControl,
        final SessionAdmission admission,
        final ControlReplyProxy replyProxy,
        final SessionRegistry registry,
        final HealthResponder.ReplySender healthSender,
        final Consumer<String> onTransportClosed)
    {
        this.aeron = aeron;
        this.endpoint = context.endpoint();
        this.transportSettings = context.transportSettings();
        this.ipcReplyChannel = ChannelUris.ipc(transportSettings);
        this.authenticator = context.authenticator();
        this.udpControl = udpControl;
        this.ipcControl = ipcControl;
        this.admission = admission;
        this.replyProxy = replyProxy;
        this.registry = registry;
        this.backend = context.backend();
        this.hostname = context.hostname();
        this.errorLog = context.errorLog();
        this.onTransportClosed = onTransportClosed;
        this.healthResponder = new HealthResponder(context, healthSender);
        this.rateLimiter = new SourceRateLimiter(context.controlBurst(), context.controlRequestsPerSecond());
        this.limited = ServerCounters.controlRequestsLimited(aeron);
    }

    public String roleName()
    {
        return "bitfusion-control";
    }

    /**
     * @throws AgentTerminationException once the server's Aeron client has closed: no request can reach it, and
     * the server replaces its transport, this adapter included.
     */
    public int doWork()
    {
        if (aeron.isClosed())
        {
            // Aeron closes its client for good when the client's conductor misses its deadline (a pause
            // longer than the liveness timeout).
            onTransportClosed.accept("its Aeron client closed, see the transport error above");
            throw new AgentTerminationException("transport closed");
        }
        pollingIpc = false;
        int work = udpControl.poll(udpAssembler, FRAGMENT_LIMIT);
        pollingIpc = true;
        work += ipcControl.poll(ipcAssembler, FRAGMENT_LIMIT);
        return work;
    }

    public void onClose()
    {
        CloseHelper.quietCloseAll(udpControl, ipcControl, limited);
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (!mayServe(header))
        {
            limited.increment();
            errorLog.record(RATE_LIMITED_MESSAGE);
            return;
        }
        final int status = bounds.check(buffer, offset, length);
        if (status == MessageBounds.UNKNOWN_TEMPLATE)
        {
            errorLog.record("control: " + bounds.reason() + "; ignored");
            return;
        }
        headerDecoder.wrap(buffer, offset);
        if (headerDecoder.schemaId() != MessageHeaderDecoder.SCHEMA_ID ||
            length < MessageHeaderDecoder.ENCODED_LENGTH + headerDecoder.blockLength())
        {
            // Without its fixed fields there is no correlation id to answer.
            errorLog.record("control: " + bounds.reason() + "; ignored");
            return;
        }

        final int bodyOffset = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        final String malformed = status == MessageBounds.VALID ? null : bounds.reason();
        try
        {
            final Image image = (Image)header.context();
            // The address the request came from, after any NAT on the way: what sessions are bound to and what
            // health tells the client it is seen as.
            final String clientHost = pollingIpc ? null : ChannelUris.sourceHost(image.sourceIdentity());
            final String replyChannel = replyChannelTo(image, clientHost);
            switch (headerDecoder.templateId())
            {
                case SessionOpenDecoder.TEMPLATE_ID -> onSessionOpen(buffer, bodyOffset, blockLength, version,
                    replyChannel, clientHost, length, malformed);
                case ListGpusDecoder.TEMPLATE_ID ->
                    onListGpus(buffer, bodyOffset, blockLength, version, replyChannel, length, malformed);
                case HealthQueryDecoder.TEMPLATE_ID -> healthResponder.onHealthQuery(
                    buffer, bodyOffset, blockLength, version, replyChannel, clientHost, length, malformed);
                default -> errorLog.record(
                    "control: unknown opcode (template " + headerDecoder.templateId() + ") ignored");
            }
        }
        catch (final IndexOutOfBoundsException | IllegalStateException | IllegalArgumentException ex)
        {
            errorLog.record("control: malformed message ignored: " + ex.getMessage());
        }
    }

    /**
     * @return whether the request's source is within its rate.
     */
    private boolean mayServe(final Header header)
    {
        final long nowNs = System.nanoTime();
        if (pollingIpc || !(header.context() instanceof Image image))
        {
            return rateLimiter.tryAcquireIpc(header.sessionId(), nowNs);
        }
        return rateLimiter.tryAcquireUdp(image.sourceIdentity(), nowNs);
    }

    private void onSessionOpen(
        final DirectBuffer buffer,
        final int offset,
        final int blockLength,
        final int version,
        final String replyChannel,
        final String clientHost,
        final int requestLength,
        final String malformed)
    {
        openDecoder.wrap(buffer, offset, blockLength, version);
        if (malformed != null)
        {
            // A client of another protocol version sends a block of another length, which reads as malformed:
            // telling it the versions differ says what to do about it.
            final boolean otherVersion = version != MessageHeaderDecoder.SCHEMA_VERSION;
            final String reason = otherVersion ? "client protocol version " + version + " does not match server " +
                "version " + MessageHeaderDecoder.SCHEMA_VERSION + "; install the same bitfusion version on client " +
                "and server" : "session open refused: " + malformed;
            errorLog.record("control: session open refused: " + malformed);
            replyProxy.sendRefusal(openDecoder.correlationId(), replyChannel, openDecoder.replyStreamId(),
                otherVersion ? SessionStatus.PROTOCOL_MISMATCH : SessionStatus.BAD_REQUEST, reason, requestLength);
            return;
        }
        final SessionAdmission.OpenRequest request = new SessionAdmission.OpenRequest(
            openDecoder.correlationId(),
            openDecoder.protocolVersion(),
            openDecoder.gpuIndex(),
            openDecoder.memoryFraction(),
            openDecoder.memoryMb(),
            openDecoder.replyStreamId(),
            openDecoder.requestStreamId(),
            openDecoder.requestSessionId(),
            openDecoder.sessionReplyStreamId(),
            openDecoder.timestampMs(),
            openDecoder.clientId(),
            bytes(openDecoder.clientPublicKeyLength(), KeyExchange.MAX_PUBLIC_KEY_LENGTH, openDecoder::getClientPublicKey),
            openDecoder.encrypt() == 1,
            openDecoder.reservationId(),
            reservationKey(),
            openDecoder.holdOnly() == 1,
            openDecoder.waitTicket(),
            openDecoder.waitSinceMs(),
            bytes(openDecoder.authProofLength(), Credentials.PROOF_LENGTH, openDecoder::getAuthProof),
            replyChannel,
            clientHost,
            requestLength);
        admission.onSessionOpen(request);
    }

    private byte[] reservationKey()
    {
        final byte[] key = new byte[SessionOpenDecoder.reservationKeyLength()];
        openDecoder.getReservationKey(key, 0, key.length);
        return key;
    }

    private void onListGpus(
        final DirectBuffer buffer,
        final int offset,
        final int blockLength,
        final int version,
        final String replyChannel,
        final int requestLength,
        final String malformed)
    {
        listGpusDecoder.wrap(buffer, offset, blockLength, version);
        final long correlationId = listGpusDecoder.correlationId();
        final int replyStreamId = listGpusDecoder.replyStreamId();
        if (malformed != null)
        {
            errorLog.record("control: list_gpus refused: " + malformed);
            replyProxy.sendGpuListRefusal(correlationId, replyChannel, replyStreamId, SessionStatus.BAD_REQUEST,
                "list_gpus refused: " + malformed, requestLength);
            return;
        }
        final long timestampMs = listGpusDecoder.timestampMs();
        final byte[] proof = bytes(listGpusDecoder.authProofLength(), Credentials.PROOF_LENGTH, listGpusDecoder::getAuthProof);
        final String clientTag = listGpusDecoder.clientTag();
        final long waitTicket = listGpusDecoder.waitTicket();
        final long waitSinceMs = listGpusDecoder.waitSinceMs();
        final double waitFraction = listGpusDecoder.waitMemoryFraction();
        final long waitMemoryMb = listGpusDecoder.waitMemoryMb();
        final TokenAuthenticator.Access access = authenticator.authorize(
            Handshakes.listGpus(correlationId, replyStreamId, timestampMs, waitTicket, waitSinceMs, waitFraction,
                waitMemoryMb),
            proof, correlationId, timestampMs, System.currentTimeMillis());
        if (!access.granted())
        {
            replyProxy.sendGpuListRefusal(correlationId, replyChannel, replyStreamId, SessionStatus.AUTH_REFUSED,
                authenticator.refusal(), requestLength);
            return;
        }
        final int waitersAhead = waitInLine(waitTicket, waitSinceMs, waitMemoryMb);
        replyProxy.sendGpuList(correlationId, replyChannel, replyStreamId, backend, hostname, registry,
            access.seesClientIds(), clientTag, registry.waitLine().size(System.nanoTime()), waitersAhead);
    }

    /**
     * A ListGpus with a wait ticket keeps its client in line for room ({@link WaitLine}), where one of this
     * server's GPUs could ever hold the slice; a negative ticket leaves the line (the client got its slices elsewhere
     * or stopped waiting).
     *
     * @return how many wait ahead of the ticket, or -1 when it is not in line here.
     */
    private int waitInLine(final long waitTicket, final long waitSinceMs, final long waitMemoryMb)
    {
        final WaitLine waitLine = registry.waitLine();
        final long nowNs = System.nanoTime();
        if (waitTicket < 0)
        {
            waitLine.served(-waitTicket);
            return -1;
        }
        if (waitTicket == 0 || waitMemoryMb < 0 || waitMemoryMb > Long.MAX_VALUE >> 20 ||
            !registry.couldEverHold(waitMemoryMb << 20) || !waitLine.renew(waitTicket, waitSinceMs, nowNs))
        {
            return -1;
        }
        return waitLine.ahead(waitTicket, nowNs);
    }

    /**
     * @return the channel back to the client whose image delivered a request: the response channel of the image
     * over UDP, the shared IPC channel over IPC.
     */
    private String replyChannelTo(final Image image, final String clientHost)
    {
        if (pollingIpc)
        {
            return ipcReplyChannel;
        }
        return ChannelUris.udpResponse(endpoint, image.correlationId(), clientHost,
            ChannelUris.CONTROL_REPLY_TERM_LENGTH, transportSettings);
    }

    /** Reads a var data field of at most {@code max} bytes; a longer one reads as one byte too many, which no check accepts. */
    private static byte[] bytes(final int length, final int max, final VarDataReader reader)
    {
        final byte[] bytes = new byte[Math.max(0, Math.min(length, max + 1))];
        reader.read(bytes, 0, bytes.length);
        return bytes;
    }

    @FunctionalInterface
    private interface VarDataReader
    {
        int read(byte[] destination, int offset, int length);
    }
}
