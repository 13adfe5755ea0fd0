package dev.bitfusion.agent;

import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.LocalRoute;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.TransportSettings;
import dev.bitfusion.transport.protocol.GpuListDecoder;
import dev.bitfusion.transport.protocol.ListGpusEncoder;
import dev.bitfusion.transport.protocol.MessageHeaderDecoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import io.aeron.ChannelUri;
import io.aeron.ChannelUriStringBuilder;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Asks a server for its GPUs and slices over UDP, without opening a session.
 * <p>
 * Thread safety: each call uses its own media driver; calls may run concurrently.
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
        final TransportSettings settings = new TransportSettings().aeronDirectoryName(TransportSettings
            .defaultAeronDirectory("query-" + ProcessHandle.current().pid() + "-" +
            Long.toHexString(ThreadLocalRandom.current().nextLong())));
        try (AeronTransport transport = AeronTransport.launchEmbedded(settings);
            Subscription replies = transport.aeron().addSubscription(
                new ChannelUriStringBuilder().media("udp").endpoint(LocalRoute.addressTowards(server) + ":0").build(), 1);
            Publication control = transport.aeron().addPublication(
                ChannelUris.udp(server, settings), Protocol.CONTROL_STREAM_ID))
        {
            final long deadlineNs = System.nanoTime() + timeoutNs;
            String resolved;
            while ((resolved = replies.tryResolveChannelEndpointPort()) == null)
            {
                awaitUntil(deadlineNs, server);
            }
            final String replyChannel = new ChannelUriStringBuilder().media("udp")
                .endpoint(ChannelUri.parse(resolved).get("endpoint")).build();

            final long correlationId = ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1024]);
            final ListGpusEncoder encoder = new ListGpusEncoder()
                .wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
                .correlationId(correlationId)
                .replyStreamId(1)
                .replyChannel(replyChannel);
            final int length = MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength();

            final GpuPoolInfo[] answer = new GpuPoolInfo[1];
            final MessageHeaderDecoder header = new MessageHeaderDecoder();
            final GpuListDecoder decoder = new GpuListDecoder();
            final FragmentAssembler assembler = new FragmentAssembler((message, offset, messageLength, frame) ->
            {
                header.wrap(message, offset);
                if (header.templateId() != GpuListDecoder.TEMPLATE_ID)
                {
                    return;
                }
                decoder.wrapAndApplyHeader(message, offset, header);
                if (decoder.correlationId() == correlationId)
                {
                    answer[0] = decode(decoder);
                }
            });

            boolean sent = false;
            while (answer[0] == null)
            {
                if (!sent)
                {
                    sent = control.offer(buffer, 0, length) > 0;
                }
                if (replies.poll(assembler, 10) == 0)
                {
                    awaitUntil(deadlineNs, server);
                }
            }
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

    private static void awaitUntil(final long deadlineNs, final Endpoint server)
    {
        if (System.nanoTime() > deadlineNs)
        {
            throw new SessionRefusedException("no answer from bitfusion server " + server + " (is it running?)");
        }
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200));
    }
}
