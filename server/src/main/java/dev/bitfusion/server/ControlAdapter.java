package dev.bitfusion.server;

import dev.bitfusion.server.backend.GpuBackend;
import dev.bitfusion.server.health.HealthResponder;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.protocol.HealthQueryDecoder;
import dev.bitfusion.transport.protocol.ListGpusDecoder;
import dev.bitfusion.transport.protocol.MessageHeaderDecoder;
import dev.bitfusion.transport.protocol.SessionOpenDecoder;
import io.aeron.Aeron;
import io.aeron.FragmentAssembler;
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
 * A reply goes only to a UDP channel, or to an IPC channel when the request itself came over IPC; anything
 * else is ignored with an error logged, as is any message that cannot be decoded.
 * <p>
 * Thread safety: the control thread only.
 */
final class ControlAdapter implements Agent, FragmentHandler
{
    /** Messages taken from each control subscription per turn. */
    static final int FRAGMENT_LIMIT = 16;

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
        this.udpControl = udpControl;
        this.ipcControl = ipcControl;
        this.admission = admission;
        this.replyProxy = replyProxy;
        this.registry = registry;
        this.backend = context.backend();
        this.errorLog = context.errorLog();
        this.onTransportClosed = onTransportClosed;
        this.healthResponder = new HealthResponder(context, this::isAcceptableReplyChannel, healthSender);
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
        CloseHelper.quietCloseAll(udpControl, ipcControl);
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            errorLog.record("control: truncated message of " + length + " bytes ignored");
            return;
        }
        headerDecoder.wrap(buffer, offset);
        if (headerDecoder.schemaId() != MessageHeaderDecoder.SCHEMA_ID ||
            length < MessageHeaderDecoder.ENCODED_LENGTH + headerDecoder.blockLength())
        {
            errorLog.record("control: malformed message ignored (schema " +
                headerDecoder.schemaId() + ", template " + headerDecoder.templateId() + ")");
            return;
        }

        final int bodyOffset = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        try
        {
            switch (headerDecoder.templateId())
            {
                case SessionOpenDecoder.TEMPLATE_ID -> onSessionOpen(buffer, bodyOffset, blockLength, version);
                case ListGpusDecoder.TEMPLATE_ID -> onListGpus(buffer, bodyOffset, blockLength, version);
                case HealthQueryDecoder.TEMPLATE_ID ->
                    healthResponder.onHealthQuery(buffer, bodyOffset, blockLength, version);
                default -> errorLog.record(
                    "control: unknown opcode (template " + headerDecoder.templateId() + ") ignored");
            }
        }
        catch (final IndexOutOfBoundsException | IllegalStateException | IllegalArgumentException ex)
        {
            errorLog.record("control: malformed message ignored: " + ex.getMessage());
        }
    }

    private void onSessionOpen(final DirectBuffer buffer, final int offset, final int blockLength, final int version)
    {
        openDecoder.wrap(buffer, offset, blockLength, version);
        final long correlationId = openDecoder.correlationId();
        final int protocolVersion = openDecoder.protocolVersion();
        final int gpuIndex = openDecoder.gpuIndex();
        final double fraction = openDecoder.memoryFraction();
        final long memoryMb = openDecoder.memoryMb();
        final int replyStreamId = openDecoder.replyStreamId();
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
