package dev.bitfusion.agent.pool;

import dev.bitfusion.agent.wire.ClientLink;
import dev.bitfusion.agent.wire.ControlClient;
import dev.bitfusion.agent.wire.SessionRefusedException;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.protocol.GpuListDecoder;
import dev.bitfusion.transport.protocol.ListGpusEncoder;
import dev.bitfusion.transport.protocol.MessageHeaderDecoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;

/**
 * Asks a server for its GPUs and slices over UDP, without opening a session.
 * <p>
 * Thread safety: each call uses its own link; calls may run concurrently.
 */
public final class PoolQuery
{
    private PoolQuery()
    {
    }

    /**
     * @param server    the server.
     * @param timeoutNs how long to wait for its answer.
     * @return what it reports.
     * @throws SessionRefusedException when it does not answer in time.
     */
    public static GpuPoolInfo listGpus(final Endpoint server, final long timeoutNs)
    {
        try (ClientLink link = ClientLink.towards(server, "udp", "query");
            ControlClient control = new ControlClient(link, server))
        {
            final long correlationId = ControlClient.newCorrelationId();
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1024]);
            final ListGpusEncoder encoder = new ListGpusEncoder()
                .wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
                .correlationId(correlationId)
                .replyStreamId(link.replyStreamId())
                .replyChannel(link.replyChannel());

            final GpuPoolInfo[] answer = new GpuPoolInfo[1];
            final MessageHeaderDecoder header = new MessageHeaderDecoder();
            final GpuListDecoder decoder = new GpuListDecoder();
            control.exchange(buffer, MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength(),
                (message, offset, length, frame) ->
                {
                    header.wrap(message, offset);
                    if (header.templateId() == GpuListDecoder.TEMPLATE_ID && header.schemaId() == GpuListDecoder.SCHEMA_ID)
                    {
                        decoder.wrapAndApplyHeader(message, offset, header);
                        if (decoder.correlationId() == correlationId)
                        {
                            answer[0] = decode(decoder);
                        }
                    }
                },
                () -> answer[0] != null, timeoutNs);
            return answer[0];
        }
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
                slices.add(new GpuPoolInfo.Slice(sessionId, slice.clientId(), sliceBytes, sliceAllocated));
            }
            gpus.add(new GpuPoolInfo.Gpu(index, gpu.name(), total, unreserved, allocated, slices));
        }
        return new GpuPoolInfo(decoder.backend(), protocolVersion, openSessions, gpus);
    }
}
