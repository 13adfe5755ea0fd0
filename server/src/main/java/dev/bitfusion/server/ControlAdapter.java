package dev.bitfusion.server;

import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.GpuDescriptor;
import dev.bitfusion.server.health.HealthResponder;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.protocol.GpuListEncoder;
import dev.bitfusion.transport.protocol.HealthQueryDecoder;
import dev.bitfusion.transport.protocol.ListGpusDecoder;
import dev.bitfusion.transport.protocol.MessageHeaderDecoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import dev.bitfusion.transport.protocol.SessionOpenDecoder;
import dev.bitfusion.transport.protocol.SessionOpenReplyEncoder;
import dev.bitfusion.transport.protocol.SessionStatus;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Receives the control stream: session opens (authentication, slice reservation, session start) and pool
 * listings. Runs on its own thread so that sessions never wait on it and it never waits on a session.
 * <p>
 * Thread safety: {@link #run()} on the control thread; {@link #stop()} from any thread.
 */
final class ControlAdapter implements Runnable, FragmentHandler
{
    private final GpuServer server;
    private final Subscription udpControl;
    private final Subscription ipcControl;
    private final FragmentAssembler udpAssembler = new FragmentAssembler(this);
    private final FragmentAssembler ipcAssembler = new FragmentAssembler(this);
    private final IdleStrategy idleStrategy = new BackoffIdleStrategy(
        10, 10, TimeUnit.MICROSECONDS.toNanos(10), TimeUnit.MILLISECONDS.toNanos(1));
    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final SessionOpenDecoder openDecoder = new SessionOpenDecoder();
    private final ListGpusDecoder listGpusDecoder = new ListGpusDecoder();
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final SessionOpenReplyEncoder openReplyEncoder = new SessionOpenReplyEncoder();
    private final GpuListEncoder gpuListEncoder = new GpuListEncoder();
    private final UnsafeBuffer replyBuffer = new UnsafeBuffer(new byte[64 * 1024]);
    private final HealthResponder healthResponder;
    private volatile boolean running = true;
    private boolean pollingIpc;

    ControlAdapter(final GpuServer server, final Subscription udpControl, final Subscription ipcControl)
    {
        this.server = server;
        this.udpControl = udpControl;
        this.ipcControl = ipcControl;
        this.healthResponder = new HealthResponder(server.context(), this::isAcceptableReplyChannel,
            (channel, streamId, message, length) -> OneShotReply.send(server.transport().aeron(), channel, streamId,
            message, length, OneShotReply.timeoutNs(server.context().transportSettings().livenessTimeoutNs()),
            server.context().errorLog()));
    }

    void stop()
    {
        running = false;
    }

    public void run()
    {
        while (running)
        {
            if (server.transport().aeron().isClosed())
            {
                // Aeron closes its client for good when the client's conductor misses its deadline (a pause
                // longer than the liveness timeout): no request can reach this server any more.
                server.context().errorLog().record("the transport closed under the server: no client can reach it");
                server.fail("its Aeron client closed (see the transport error above)");
                break;
            }
            pollingIpc = false;
            int work = udpControl.poll(udpAssembler, 16);
            pollingIpc = true;
            work += ipcControl.poll(ipcAssembler, 16);
            idleStrategy.idle(work);
        }
        CloseHelper.quietCloseAll(udpControl, ipcControl);
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            server.context().errorLog().record("control: truncated message of " + length + " bytes ignored");
            return;
        }
        headerDecoder.wrap(buffer, offset);
        if (headerDecoder.schemaId() != MessageHeaderDecoder.SCHEMA_ID ||
            length < MessageHeaderDecoder.ENCODED_LENGTH + headerDecoder.blockLength())
        {
            server.context().errorLog().record("control: malformed message ignored (schema " +
                headerDecoder.schemaId() + ", template " + headerDecoder.templateId() + ")");
            return;
        }

        final int bodyOffset = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        try
        {
            switch (headerDecoder.templateId())
            {
                case SessionOpenDecoder.TEMPLATE_ID:
                    openDecoder.wrap(buffer, bodyOffset, headerDecoder.blockLength(), headerDecoder.version());
                    onSessionOpen();
                    break;
                case ListGpusDecoder.TEMPLATE_ID:
                    listGpusDecoder.wrap(buffer, bodyOffset, headerDecoder.blockLength(), headerDecoder.version());
                    onListGpus();
                    break;
                case HealthQueryDecoder.TEMPLATE_ID:
                    healthResponder.onHealthQuery(
                        buffer, bodyOffset, headerDecoder.blockLength(), headerDecoder.version());
                    break;
                default:
                    server.context().errorLog().record(
                        "control: unknown opcode (template " + headerDecoder.templateId() + ") ignored");
            }
        }
        catch (final IndexOutOfBoundsException | IllegalStateException | IllegalArgumentException ex)
        {
            server.context().errorLog().record("control: malformed message ignored: " + ex.getMessage());
        }
    }

    private void onSessionOpen()
    {
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
            server.context().errorLog().record("control: session open from '" + clientId +
                "' names an unusable reply channel '" + replyChannel + "'; ignored");
            return;
        }
        if (protocolVersion != Protocol.VERSION)
        {
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.PROTOCOL_MISMATCH,
                "client protocol version " + protocolVersion + " does not match server version " + Protocol.VERSION +
                "; install the same bitfusion version on client and server");
            return;
        }
        if (!server.context().authenticator().accepts(token))
        {
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.AUTH_REFUSED,
                "authentication token refused; set BITFUSION_TOKEN or ~/.bitfusion/token to the server's token");
            return;
        }
        final List<GpuDescriptor> gpus = server.context().backend().gpus();
        if (gpuIndex < 0 || gpuIndex >= gpus.size())
        {
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.NO_SUCH_GPU,
                "GPU " + gpuIndex + " does not exist; the server has " + gpus.size());
            return;
        }

        if (server.sessions().size() >= server.context().maxSessions())
        {
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.SLICE_UNAVAILABLE,
                "the server has " + server.sessions().size() + " sessions open, its limit; try again later");
            return;
        }

        final SliceLedger ledger = server.ledgers().get(gpuIndex);
        final long sliceBytes;
        if (fraction > 0 && memoryMb > 0 || fraction < 0 || fraction > 1 || memoryMb < 0 || Double.isNaN(fraction))
        {
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.BAD_REQUEST,
                "a slice is a fraction in (0, 1] or a size in MB, not both: got fraction " + fraction +
                ", " + memoryMb + " MB");
            return;
        }
        else if (fraction > 0)
        {
            sliceBytes = (long)(ledger.totalBytes() * fraction);
        }
        else if (memoryMb > 0)
        {
            sliceBytes = memoryMb << 20;
        }
        else
        {
            sliceBytes = ledger.totalBytes();
        }

        final long sessionId = server.nextSessionId();
        if (!ledger.reserve(sessionId, sliceBytes))
        {
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.SLICE_UNAVAILABLE,
                "GPU " + gpuIndex + " has " + (ledger.unreservedBytes() >> 20) + " MiB unreserved of " +
                (ledger.totalBytes() >> 20) + " MiB; the requested slice of " + (sliceBytes >> 20) +
                " MiB does not fit");
            return;
        }

        startSession(sessionId, correlationId, clientId, gpus.get(gpuIndex), sliceBytes, replyChannel, replyStreamId);
    }

    private void startSession(
        final long sessionId,
        final long correlationId,
        final String clientId,
        final GpuDescriptor gpu,
        final long sliceBytes,
        final String replyChannel,
        final int replyStreamId)
    {
        final int requestStreamId = server.nextStreamId();
        final String requestChannel = pollingIpc ? server.ipcChannel() : server.udpChannel();
        Subscription requests = null;
        Publication replies = null;
        BackendSession backendSession = null;
        try
        {
            requests = server.transport().aeron().addSubscription(requestChannel, requestStreamId);
            replies = server.transport().aeron().addExclusivePublication(replyChannel, replyStreamId);
            backendSession = server.context().backend().openSession(gpu.index(), sliceBytes);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(requests, replies);
            if (backendSession != null)
            {
                backendSession.close();
            }
            server.ledgers().get(gpu.index()).release(sessionId);
            // The client hears why at once rather than waiting out its timeout and blaming the network.
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.SLICE_UNAVAILABLE,
                "GPU " + gpu.index() + " cannot open a session for '" + clientId + "': " + ex.getMessage());
            return;
        }

        final SessionAgent[] holder = new SessionAgent[1];
        final SessionAgent session = new SessionAgent(
            sessionId, clientId, gpu, requestStreamId, correlationId, requests, replies, backendSession,
            server.context().errorLog(), server.context().transportSettings().livenessTimeoutNs(),
            () -> server.unregister(holder[0]));
        holder[0] = session;
        server.register(session);
        server.context().errorLog().info("session " + sessionId + " opened for '" + clientId + "' on GPU " +
            gpu.index() + ": " + (sliceBytes >> 20) + " MiB slice over " + (pollingIpc ? "ipc" : "udp"));

        final Thread thread = new Thread(session, "bitfusion-session-" + sessionId);
        thread.setDaemon(true);
        thread.start();
    }

    private void refuse(
        final long correlationId,
        final String replyChannel,
        final int replyStreamId,
        final SessionStatus status,
        final String reason)
    {
        server.context().errorLog().record("session refused (" + status + "): " + reason);
        openReplyEncoder.wrapAndApplyHeader(replyBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .status(status)
            .sessionId(0)
            .requestStreamId(0)
            .protocolVersion(Protocol.VERSION)
            .sliceBytes(0)
            .computeCapabilityMajor(0)
            .computeCapabilityMinor(0);
        openReplyEncoder.attributesCount(0);
        openReplyEncoder.deviceName("").message(reason);
        sendOneShot(replyChannel, replyStreamId, MessageHeaderEncoder.ENCODED_LENGTH + openReplyEncoder.encodedLength());
    }

    private void onListGpus()
    {
        final long correlationId = listGpusDecoder.correlationId();
        final int replyStreamId = listGpusDecoder.replyStreamId();
        final String replyChannel = listGpusDecoder.replyChannel();
        if (!isAcceptableReplyChannel(replyChannel))
        {
            server.context().errorLog().record("control: list_gpus names an unusable reply channel; ignored");
            return;
        }

        final List<GpuDescriptor> gpus = server.context().backend().gpus();
        gpuListEncoder.wrapAndApplyHeader(replyBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .protocolVersion(Protocol.VERSION)
            .openSessions(server.sessions().size());
        final GpuListEncoder.GpusEncoder gpusEncoder = gpuListEncoder.gpusCount(gpus.size());
        for (final GpuDescriptor gpu : gpus)
        {
            final SliceLedger ledger = server.ledgers().get(gpu.index());
            final List<SessionAgent> slices = server.sessions().stream()
                .filter(session -> session.gpuIndex() == gpu.index()).toList();
            long allocated = 0;
            for (final SessionAgent session : slices)
            {
                allocated += session.allocatedBytes();
            }
            gpusEncoder.next()
                .index(gpu.index())
                .totalBytes(gpu.totalBytes())
                .unreservedBytes(ledger.unreservedBytes())
                .allocatedBytes(allocated);
            final GpuListEncoder.GpusEncoder.SlicesEncoder slicesEncoder = gpusEncoder.slicesCount(slices.size());
            for (final SessionAgent session : slices)
            {
                slicesEncoder.next()
                    .sessionId(session.sessionId())
                    .sliceBytes(session.sliceBytes())
                    .allocatedBytes(session.allocatedBytes())
                    .clientId(session.clientId());
            }
            gpusEncoder.name(gpu.name());
        }
        gpuListEncoder.backend(server.context().backend().kind());
        sendOneShot(replyChannel, replyStreamId, MessageHeaderEncoder.ENCODED_LENGTH + gpuListEncoder.encodedLength());
    }

    private void sendOneShot(final String replyChannel, final int replyStreamId, final int length)
    {
        OneShotReply.send(server.transport().aeron(), replyChannel, replyStreamId, replyBuffer, length,
            OneShotReply.timeoutNs(server.context().transportSettings().livenessTimeoutNs()),
            server.context().errorLog());
    }

    private boolean isAcceptableReplyChannel(final String channel)
    {
        return channel.startsWith("aeron:udp?") || (pollingIpc && ChannelUris.isIpc(channel));
    }
}
