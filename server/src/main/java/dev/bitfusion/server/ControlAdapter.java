package dev.bitfusion.server;

import dev.bitfusion.server.backend.GpuBackend;
import dev.bitfusion.server.health.HealthResponder;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.protocol.HealthQueryDecoder;
import dev.bitfusion.transport.protocol.ListGpusDecoder;
import dev.bitfusion.server.status.ServerCounters;
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
 * Receives the control stream, on UDP and on IPC: checks each message's header, schema, length and the reply
 * channel it names, decodes it and hands it on: a SessionOpen to the {@link SessionAdmission}, a ListGpus to
 * the {@link ControlReplyProxy} with the pool as it stands, a HealthQuery to the {@link HealthResponder}. It
 * shares a thread with the {@link ControlReplySender}, never waits on a session, and no session waits on it.
 * <p>
 * Each source (see {@link SourceRateLimiter}) is served at a bounded rate: requests past it are ignored before
 * anything is read, counted on the control requests limited counter. Every length and count of a request is
 * checked ({@link MessageBounds}, generated from the schema) before it is decoded. A request whose strings are
 * longer than the schema allows is refused with the reason when its reply channel can still be read; one that
 * cannot be walked to its end names no channel that could be trusted and is ignored, with an error logged.
 * <p>
 * A reply goes only to a UDP channel, or to an IPC channel when the request itself came over IPC; anything
 * else is ignored with an error logged.
 * <p>
 * Thread safety: the control thread only.
 */
final class ControlAdapter implements Agent, FragmentHandler
{
    /** Messages taken from each control subscription per turn. */
    static final int FRAGMENT_LIMIT = 16;
    /** Longest reply channel a refusal is sent to: the schema's limit of the control stream's strings. */
    static final int MAX_REPLY_CHANNEL_LENGTH = 4096;
    static final String RATE_LIMITED_MESSAGE =
        "control: requests past a source's rate limit ignored (see the control requests limited counter)";

    private final Aeron aeron;
    private final Subscription udpControl;
    private final Subscription ipcControl;
    private final SessionAdmission admission;
    private final ControlReplyProxy replyProxy;
    private final SessionRegistry registry;
    private final GpuBackend backend;
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
     * @param onTransportClosed told why once the server's Aeron client has closed under it.
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
        this.udpControl = udpControl;
        this.ipcControl = ipcControl;
        this.admission = admission;
        this.replyProxy = replyProxy;
        this.registry = registry;
        this.backend = context.backend();
        this.errorLog = context.errorLog();
        this.onTransportClosed = onTransportClosed;
        this.healthResponder = new HealthResponder(context, this::isAcceptableReplyChannel, healthSender);
        this.rateLimiter = new SourceRateLimiter(context.controlBurst(), context.controlRequestsPerSecond());
        this.limited = ServerCounters.controlRequestsLimited(aeron);
    }

    public String roleName()
    {
        return "bitfusion-control";
    }

    /**
     * @throws AgentTerminationException once the server's Aeron client has closed: no request can reach it.
     */
    public int doWork()
    {
        if (aeron.isClosed())
        {
            // Aeron closes its client for good when the client's conductor misses its deadline (a pause
            // longer than the liveness timeout).
            errorLog.record("the transport closed under the server: no client can reach it");
            onTransportClosed.accept("its Aeron client closed (see the transport error above)");
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
        if (status == MessageBounds.MALFORMED || status == MessageBounds.UNKNOWN_TEMPLATE)
        {
            // No reply channel can be read from a message that cannot be walked to its end.
            errorLog.record("control: " + bounds.reason() + "; ignored");
            return;
        }
        headerDecoder.wrap(buffer, offset);
        final int bodyOffset = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        final boolean overLimit = status == MessageBounds.OVER_LIMIT;
        try
        {
            switch (headerDecoder.templateId())
            {
                case SessionOpenDecoder.TEMPLATE_ID -> onSessionOpen(buffer, bodyOffset, blockLength, version, overLimit);
                case ListGpusDecoder.TEMPLATE_ID ->
                {
                    if (overLimit)
                    {
                        errorLog.record("control: " + bounds.reason() + "; ignored");
                        return;
                    }
                    onListGpus(buffer, bodyOffset, blockLength, version);
                }
                case HealthQueryDecoder.TEMPLATE_ID ->
                {
                    if (overLimit)
                    {
                        errorLog.record("control: " + bounds.reason() + "; ignored");
                        return;
                    }
                    healthResponder.onHealthQuery(buffer, bodyOffset, blockLength, version);
                }
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

    /**
     * @param overLimit a string of the request is longer than the schema allows: the request is refused with the
     *                  reason when its reply channel can still be used.
     */
    private void onSessionOpen(
        final DirectBuffer buffer, final int offset, final int blockLength, final int version, final boolean overLimit)
    {
        openDecoder.wrap(buffer, offset, blockLength, version);
        final long correlationId = openDecoder.correlationId();
        final int protocolVersion = openDecoder.protocolVersion();
        final int gpuIndex = openDecoder.gpuIndex();
        final double fraction = openDecoder.memoryFraction();
        final long memoryMb = openDecoder.memoryMb();
        final int replyStreamId = openDecoder.replyStreamId();
        if (overLimit)
        {
            openDecoder.skipClientId();
            openDecoder.skipAuthToken();
            final String replyChannel = openDecoder.replyChannelLength() <= MAX_REPLY_CHANNEL_LENGTH ?
                openDecoder.replyChannel() : "";
            if (isAcceptableReplyChannel(replyChannel))
            {
                replyProxy.sendRefusal(correlationId, replyChannel, replyStreamId, SessionStatus.BAD_REQUEST,
                    "session open refused: " + bounds.reason());
            }
            errorLog.record("control: session open refused: " + bounds.reason());
            return;
        }
        final String clientId = openDecoder.clientId();
        final String token = openDecoder.authToken();
        final String replyChannel = openDecoder.replyChannel();
        if (!isAcceptableReplyChannel(replyChannel))
        {
            errorLog.record("control: session open from '" + clientId + "' names an unusable reply channel '" +
                replyChannel + "'; ignored");
            return;
        }
        admission.onSessionOpen(correlationId, protocolVersion, gpuIndex, fraction, memoryMb, replyStreamId, clientId,
            token, replyChannel, pollingIpc);
    }

    private void onListGpus(final DirectBuffer buffer, final int offset, final int blockLength, final int version)
    {
        listGpusDecoder.wrap(buffer, offset, blockLength, version);
        final long correlationId = listGpusDecoder.correlationId();
        final int replyStreamId = listGpusDecoder.replyStreamId();
        final String replyChannel = listGpusDecoder.replyChannel();
        if (!isAcceptableReplyChannel(replyChannel))
        {
            errorLog.record("control: list_gpus names an unusable reply channel; ignored");
            return;
        }
        replyProxy.sendGpuList(correlationId, replyChannel, replyStreamId, backend.kind(), backend.gpus(), registry);
    }

    private boolean isAcceptableReplyChannel(final String channel)
    {
        return channel.startsWith("aeron:udp?") || (pollingIpc && ChannelUris.isIpc(channel));
    }
}
