package dev.bitfusion.server;

import dev.bitfusion.server.backend.GpuDescriptor;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.protocol.GpuListEncoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import dev.bitfusion.transport.protocol.SessionOpenReplyEncoder;
import dev.bitfusion.transport.protocol.SessionStatus;
import org.agrona.ExpandableArrayBuffer;

import java.util.List;

/**
 * Encodes the control stream's own replies and hands them to the {@link ControlReplySender}: refused session
 * opens, and pool listings.
 * <pre>
 *   SessionOpenReply  correlationId, status (why refused), protocolVersion, no slice, no attributes, message
 *   GpuList           correlationId, protocolVersion, openSessions,
 *                     gpus[index, totalBytes, unreservedBytes, allocatedBytes,
 *                          slices[sessionId, sliceBytes, allocatedBytes, clientId], name],
 *                     backend
 * </pre>
 * Thread safety: the control thread only.
 */
final class ControlReplyProxy
{
    private final ControlReplySender sender;
    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64 * 1024);
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final SessionOpenReplyEncoder openReplyEncoder = new SessionOpenReplyEncoder();
    private final GpuListEncoder gpuListEncoder = new GpuListEncoder();

    ControlReplyProxy(final ControlReplySender sender)
    {
        this.sender = sender;
    }

    /**
     * @return false when the reply was dropped: too many replies wait to go out.
     */
    boolean sendRefusal(
        final long correlationId,
        final String replyChannel,
        final int replyStreamId,
        final SessionStatus status,
        final String reason)
    {
        openReplyEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
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
        return sender.send(replyChannel, replyStreamId, buffer,
            MessageHeaderEncoder.ENCODED_LENGTH + openReplyEncoder.encodedLength());
    }

    /**
     * @param backendKind the backend's kind: emulated or cuda.
     * @param gpus        the server's GPUs.
     * @param registry    their slices and the sessions that hold them.
     * @return false when the reply was dropped: too many replies wait to go out.
     */
    boolean sendGpuList(
        final long correlationId,
        final String replyChannel,
        final int replyStreamId,
        final String backendKind,
        final List<GpuDescriptor> gpus,
        final SessionRegistry registry)
    {
        gpuListEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .correlationId(correlationId)
            .protocolVersion(Protocol.VERSION)
            .openSessions(registry.size());
        final GpuListEncoder.GpusEncoder gpusEncoder = gpuListEncoder.gpusCount(gpus.size());
        for (final GpuDescriptor gpu : gpus)
        {
            final List<ClientSession> slices = registry.sessionsOn(gpu.index());
            long allocated = 0;
            for (final ClientSession session : slices)
            {
                allocated += session.allocatedBytes();
            }
            gpusEncoder.next()
                .index(gpu.index())
                .totalBytes(gpu.totalBytes())
                .unreservedBytes(registry.ledger(gpu.index()).unreservedBytes())
                .allocatedBytes(allocated);
            final GpuListEncoder.GpusEncoder.SlicesEncoder slicesEncoder = gpusEncoder.slicesCount(slices.size());
            for (final ClientSession session : slices)
            {
                slicesEncoder.next()
                    .sessionId(session.sessionId())
                    .sliceBytes(session.sliceBytes())
                    .allocatedBytes(session.allocatedBytes())
                    .clientId(session.clientId());
            }
            gpusEncoder.name(gpu.name());
        }
        gpuListEncoder.backend(backendKind);
        return sender.send(replyChannel, replyStreamId, buffer,
            MessageHeaderEncoder.ENCODED_LENGTH + gpuListEncoder.encodedLength());
    }
}
