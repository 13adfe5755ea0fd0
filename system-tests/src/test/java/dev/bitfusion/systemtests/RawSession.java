package dev.bitfusion.systemtests;

import dev.bitfusion.agent.wire.ClientLink;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.protocol.*;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A client that speaks the wire by hand, as a hostile one would: it opens a session the way every client does
 * (SessionOpen on the control stream, naming its own reply channel), then sends whatever bytes a test writes on
 * the session's request stream or the control stream, and keeps what comes back.
 * <p>
 * Thread safety: one thread.
 */
final class RawSession implements AutoCloseable
{
    static final int HEADER = MessageHeaderEncoder.ENCODED_LENGTH;
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    /** A Result or an AsyncError as it came back. */
    record Reply(int templateId, long correlationId, int result, String message)
    {
    }

    final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1 << 20]);
    final MessageHeaderEncoder header = new MessageHeaderEncoder();
    final List<Reply> replies = new ArrayList<>();
    private final ClientLink link;
    private final ExclusivePublication control;
    private final MessageHeaderDecoder replyHeader = new MessageHeaderDecoder();
    private final FragmentAssembler assembler = new FragmentAssembler(this::onReply);
    private ExclusivePublication session;
    private long sessionId;

    private RawSession(final Endpoint server)
    {
        link = ClientLink.towards(server, "udp", "raw");
        control = link.transport().aeron().addExclusivePublication(link.serverChannel(), Protocol.CONTROL_STREAM_ID);
    }

    /**
     * @return a raw client with no session: for the control stream only.
     */
    static RawSession controlOnly(final Endpoint server)
    {
        return new RawSession(server);
    }

    /**
     * @param memoryMb the slice.
     * @return a raw client with a session of its own.
     */
    static RawSession open(final Endpoint server, final long memoryMb)
    {
        final RawSession raw = new RawSession(server);
        try
        {
            final int length = HEADER + new SessionOpenEncoder().wrapAndApplyHeader(raw.buffer, 0, raw.header)
                .correlationId(1).protocolVersion(Protocol.VERSION).gpuIndex(0).memoryFraction(0).memoryMb(memoryMb)
                .replyStreamId(raw.replyStreamId()).clientId("raw-session").authToken("")
                .replyChannel(raw.replyChannel()).encodedLength();
            raw.sendControl(length);
            final Reply opened = raw.await(reply -> reply.templateId() == SessionOpenReplyDecoder.TEMPLATE_ID);
            if (opened.result() != SessionStatus.OPENED.value())
            {
                throw new IllegalStateException("session refused: " + opened);
            }
            raw.session = raw.link.transport().aeron().addExclusivePublication(raw.link.serverChannel(),
                (int)opened.correlationId());
            raw.awaitTrue(() -> raw.session.isConnected(), "the session's request stream to connect");
            return raw;
        }
        catch (final RuntimeException ex)
        {
            raw.close();
            throw ex;
        }
    }

    String replyChannel()
    {
        return link.replyChannel();
    }

    int replyStreamId()
    {
        return link.replyStreamId();
    }

    long sessionId()
    {
        return sessionId;
    }

    /**
     * Offer the first {@code length} bytes of {@link #buffer} on the session's request stream.
     */
    void send(final int length)
    {
        awaitTrue(() -> session.offer(buffer, 0, length) > 0, "room to send on the session");
    }

    /**
     * Offer the first {@code length} bytes of {@link #buffer} on the control stream.
     */
    void sendControl(final int length)
    {
        awaitTrue(() -> control.offer(buffer, 0, length) > 0, "room to send on the control stream");
    }

    /**
     * @return the Result of a call, once it came.
     */
    Reply awaitResult(final long correlationId)
    {
        return await(reply -> reply.templateId() == ResultDecoder.TEMPLATE_ID && reply.correlationId() == correlationId);
    }

    Reply await(final java.util.function.Predicate<Reply> condition)
    {
        final Reply[] found = new Reply[1];
        awaitTrue(() ->
        {
            for (final Reply reply : replies)
            {
                if (condition.test(reply))
                {
                    found[0] = reply;
                    return true;
                }
            }
            return false;
        }, "a reply");
        replies.remove(found[0]);
        return found[0];
    }

    int poll()
    {
        return link.replies().poll(assembler, 64);
    }

    /**
     * @return whether the session answers a call: it executes requests in order, so every earlier one was too.
     */
    boolean answers(final long correlationId)
    {
        send(HEADER + new MemGetInfoEncoder().wrapAndApplyHeader(buffer, 0, header).correlationId(correlationId)
            .encodedLength());
        return awaitResult(correlationId).result() == 0;
    }

    public void close()
    {
        if (session != null)
        {
            session.offer(buffer, 0, HEADER + new SessionCloseEncoder().wrapAndApplyHeader(buffer, 0, header)
                .sessionId(sessionId).encodedLength());
        }
        CloseHelper.quietCloseAll(session, control, link);
    }

    private void awaitTrue(final java.util.function.BooleanSupplier condition, final String what)
    {
        final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new IllegalStateException("gave up waiting for " + what + "; replies: " + replies);
            }
            if (poll() == 0)
            {
                Thread.onSpinWait();
            }
        }
    }

    private void onReply(final DirectBuffer message, final int offset, final int length, final io.aeron.logbuffer.Header frame)
    {
        replyHeader.wrap(message, offset);
        switch (replyHeader.templateId())
        {
            case ResultDecoder.TEMPLATE_ID ->
            {
                final ResultDecoder result = new ResultDecoder().wrapAndApplyHeader(message, offset, replyHeader);
                replies.add(new Reply(ResultDecoder.TEMPLATE_ID, result.correlationId(), result.result(), result.message()));
            }
            case AsyncErrorDecoder.TEMPLATE_ID ->
            {
                final AsyncErrorDecoder error = new AsyncErrorDecoder().wrapAndApplyHeader(message, offset, replyHeader);
                replies.add(new Reply(AsyncErrorDecoder.TEMPLATE_ID, 0, error.result(), error.message()));
            }
            case SessionOpenReplyDecoder.TEMPLATE_ID ->
            {
                final SessionOpenReplyDecoder reply =
                    new SessionOpenReplyDecoder().wrapAndApplyHeader(message, offset, replyHeader);
                sessionId = reply.sessionId();
                final int requestStreamId = reply.requestStreamId();
                final int status = reply.statusRaw();
                for (final SessionOpenReplyDecoder.AttributesDecoder ignored : reply.attributes())
                {
                    // Skipped to reach the message.
                }
                reply.skipDeviceName();
                replies.add(new Reply(SessionOpenReplyDecoder.TEMPLATE_ID, requestStreamId, status, reply.message()));
            }
            default ->
            {
            }
        }
    }
}
