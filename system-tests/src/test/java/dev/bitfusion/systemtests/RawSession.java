package dev.bitfusion.systemtests;

import dev.bitfusion.agent.wire.ClientLink;
import dev.bitfusion.agent.wire.ControlClient;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.protocol.*;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.logbuffer.Header;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * A client that speaks the wire by hand, as a hostile one would: it opens a session the way every client does
 * (its request publication and reply subscription first, then a SessionOpen on the control stream naming them,
 * without a token), then sends whatever bytes a test writes on the session's request stream (the only publication
 * the session hears) or on the control stream, and keeps what comes back.
 * <p>
 * Thread safety: one thread.
 */
final class RawSession implements AutoCloseable
{
    static final int HEADER = MessageHeaderEncoder.ENCODED_LENGTH;
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);
    private static final long OPEN_CORRELATION_ID = 1;

    /**
     * A reply as it came back: a Result (its correlation id, CUresult, first value and message), an AsyncError
     * (result and message), a SessionOpenReply (the request stream in place of a correlation id, the status).
     */
    record Reply(int templateId, long correlationId, int result, long value1, String message)
    {
    }

    final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1 << 20]);
    final MessageHeaderEncoder header = new MessageHeaderEncoder();
    final List<Reply> replies = new ArrayList<>();
    private final ClientLink link;
    private final int controlReplyStreamId = Protocol.newClientStreamId();
    private final Subscription controlReplies;
    private final ExclusivePublication control;
    private final MessageHeaderDecoder replyHeader = new MessageHeaderDecoder();
    private final FragmentAssembler controlAssembler = new FragmentAssembler(this::onReply);
    private final FragmentAssembler sessionAssembler = new FragmentAssembler(this::onReply);
    private Subscription sessionReplies;
    private ExclusivePublication session;
    private long sessionId;

    private RawSession(final Endpoint server)
    {
        link = ClientLink.towards(server, "udp", "raw");
        controlReplies = link.addReplySubscription(controlReplyStreamId);
        control = link.addExclusiveRequestPublication(Protocol.CONTROL_STREAM_ID, controlReplies);
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
     * @return a raw client with a session of its own, its request stream connected.
     */
    static RawSession open(final Endpoint server, final long memoryMb)
    {
        final RawSession raw = new RawSession(server);
        try
        {
            raw.sessionReplies = raw.link.addReplySubscription(Protocol.newClientStreamId());
            raw.session = raw.link.addExclusiveRequestPublication(Protocol.newClientStreamId(), raw.sessionReplies);
            final SessionOpenEncoder open = new SessionOpenEncoder().wrapAndApplyHeader(raw.buffer, 0, raw.header)
                .correlationId(OPEN_CORRELATION_ID)
                .protocolVersion(Protocol.VERSION)
                .gpuIndex(0)
                .memoryFraction(0)
                .memoryMb(memoryMb)
                .replyStreamId(raw.controlReplyStreamId)
                .requestStreamId(raw.session.streamId())
                .requestSessionId(raw.session.sessionId())
                .sessionReplyStreamId(raw.sessionReplies.streamId())
                .timestampMs(System.currentTimeMillis())
                .encrypt((short)0)
                .reservationId(0)
                .putReservationKey(new byte[16], 0, 16)
                .holdOnly((short)0)
                .waitTicket(0)
                .waitSinceMs(0)
                .clientId("raw-session");
            open.putClientPublicKey(new byte[0], 0, 0);
            open.putAuthProof(new byte[0], 0, 0);
            open.putPadding(ControlClient.REFUSAL_ROOM, 0, ControlClient.REFUSAL_ROOM.length);
            raw.sendControl(HEADER + open.encodedLength());
            final Reply opened = raw.await(reply -> reply.templateId() == SessionOpenReplyDecoder.TEMPLATE_ID);
            if (opened.result() != SessionStatus.OPENED.value())
            {
                throw new IllegalStateException("session refused: " + opened);
            }
            raw.awaitTrue(() -> raw.session.isConnected(), "the session's request stream to connect");
            return raw;
        }
        catch (final RuntimeException ex)
        {
            raw.close();
            throw ex;
        }
    }

    /**
     * @return the stream the server answers this client's control requests on, for a request to name.
     */
    int replyStreamId()
    {
        return controlReplyStreamId;
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

    /**
     * @return the first AsyncError whose message holds the text, once it came.
     */
    Reply awaitAsyncError(final String text)
    {
        return await(reply -> reply.templateId() == AsyncErrorDecoder.TEMPLATE_ID && reply.message().contains(text));
    }

    /**
     * @return the first reply that meets the condition, taken from those kept, once it came.
     */
    Reply await(final Predicate<Reply> condition)
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
        return controlReplies.poll(controlAssembler, 64) +
            (sessionReplies != null ? sessionReplies.poll(sessionAssembler, 64) : 0);
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
        if (session != null && sessionId != 0)
        {
            session.offer(buffer, 0, HEADER + new SessionCloseEncoder().wrapAndApplyHeader(buffer, 0, header)
                .sessionId(sessionId).encodedLength());
        }
        CloseHelper.quietCloseAll(session, sessionReplies, control, controlReplies, link);
    }

    private void awaitTrue(final BooleanSupplier condition, final String what)
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

    private void onReply(final DirectBuffer message, final int offset, final int length, final Header frame)
    {
        replyHeader.wrap(message, offset);
        switch (replyHeader.templateId())
        {
            case ResultDecoder.TEMPLATE_ID ->
            {
                final ResultDecoder result = new ResultDecoder().wrapAndApplyHeader(message, offset, replyHeader);
                replies.add(new Reply(ResultDecoder.TEMPLATE_ID, result.correlationId(), result.result(),
                    result.value1(), result.message()));
            }
            case AsyncErrorDecoder.TEMPLATE_ID ->
            {
                final AsyncErrorDecoder error = new AsyncErrorDecoder().wrapAndApplyHeader(message, offset, replyHeader);
                replies.add(new Reply(AsyncErrorDecoder.TEMPLATE_ID, 0, error.result(), 0, error.message()));
            }
            case SessionOpenReplyDecoder.TEMPLATE_ID ->
            {
                final SessionOpenReplyDecoder reply =
                    new SessionOpenReplyDecoder().wrapAndApplyHeader(message, offset, replyHeader);
                final long correlationId = reply.correlationId();
                final long openedSessionId = reply.sessionId();
                final int requestStreamId = reply.requestStreamId();
                final int status = reply.statusRaw();
                for (final SessionOpenReplyDecoder.AttributesDecoder ignored : reply.attributes())
                {
                    // Skipped to reach the message.
                }
                reply.skipDeviceName();
                if (correlationId == OPEN_CORRELATION_ID && status == SessionStatus.OPENED.value())
                {
                    sessionId = openedSessionId;
                }
                replies.add(new Reply(SessionOpenReplyDecoder.TEMPLATE_ID, requestStreamId, status, correlationId,
                    reply.message()));
            }
            default ->
            {
                // Other replies do not concern these tests.
            }
        }
    }
}
