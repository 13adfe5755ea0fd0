package dev.bitfusion.systemtests;

import dev.bitfusion.agent.wire.ClientLink;
import dev.bitfusion.agent.wire.ControlClient;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.protocol.AsyncErrorDecoder;
import dev.bitfusion.transport.protocol.MessageHeaderDecoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import dev.bitfusion.transport.protocol.ResultDecoder;
import dev.bitfusion.transport.protocol.SessionOpenEncoder;
import dev.bitfusion.transport.protocol.SessionOpenReplyDecoder;
import dev.bitfusion.transport.protocol.SessionStatus;
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

/**
 * A session opened on the wire by hand, without a token, whose request stream takes whatever bytes a test offers:
 * malformed messages from the session's own client, which is the only publication its server hears. What comes back
 * is kept: the messages of asynchronous errors and the results of calls.
 * <p>
 * Thread safety: one thread.
 */
final class RawSession implements AutoCloseable
{
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    private final ClientLink link;
    private final Subscription replies;
    private final ExclusivePublication requests;
    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final SessionOpenReplyDecoder openReply = new SessionOpenReplyDecoder();
    private final AsyncErrorDecoder asyncError = new AsyncErrorDecoder();
    private final ResultDecoder result = new ResultDecoder();
    private final FragmentAssembler assembler = new FragmentAssembler(this::onReply);
    private final List<String> asyncErrors = new ArrayList<>();
    private final List<long[]> results = new ArrayList<>();
    private long openCorrelationId;
    private long sessionId;
    private String refusal;

    private RawSession(final ClientLink link, final Subscription replies, final ExclusivePublication requests)
    {
        this.link = link;
        this.replies = replies;
        this.requests = requests;
    }

    /**
     * @return a session of {@code memoryMb} on GPU 0, over UDP, its request stream connected.
     */
    static RawSession open(final Endpoint server, final long memoryMb)
    {
        final ClientLink link = ClientLink.towards(server, "udp", "raw-session");
        final Subscription replies = link.addReplySubscription(Protocol.newClientStreamId());
        final RawSession session =
            new RawSession(link, replies, link.addExclusiveRequestPublication(Protocol.newClientStreamId(), replies));
        try (ControlClient control = new ControlClient(link, server))
        {
            session.openCorrelationId = ControlClient.newCorrelationId();
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1024]);
            final SessionOpenEncoder encoder = new SessionOpenEncoder()
                .wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
                .correlationId(session.openCorrelationId)
                .protocolVersion(Protocol.VERSION)
                .gpuIndex(0)
                .memoryFraction(0)
                .memoryMb(memoryMb)
                .replyStreamId(control.replyStreamId())
                .requestStreamId(session.requests.streamId())
                .requestSessionId(session.requests.sessionId())
                .sessionReplyStreamId(replies.streamId())
                .timestampMs(System.currentTimeMillis())
                .clientId("raw-session");
            encoder.putClientPublicKey(new byte[0], 0, 0);
            encoder.putAuthProof(new byte[0], 0, 0);
            encoder.putPadding(ControlClient.REFUSAL_ROOM, 0, ControlClient.REFUSAL_ROOM.length);
            control.exchange(buffer, MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength(), session::onReply,
                () -> session.sessionId != 0 || session.refusal != null, session::poll, TIMEOUT_NS);
        }
        catch (final RuntimeException ex)
        {
            session.close();
            throw ex;
        }
        if (session.refusal != null)
        {
            session.close();
            throw new IllegalStateException("session refused: " + session.refusal);
        }
        session.await(session.requests::isConnected, "the request stream to connect");
        return session;
    }

    long sessionId()
    {
        return sessionId;
    }

    /**
     * Offer bytes as they are on the session's request stream.
     */
    void offer(final DirectBuffer buffer, final int length)
    {
        await(() -> requests.offer(buffer, 0, length) > 0, "room to offer " + length + " bytes");
    }

    /**
     * @return the messages of the asynchronous errors received so far.
     */
    List<String> asyncErrors()
    {
        poll();
        return asyncErrors;
    }

    /**
     * Wait for an asynchronous error whose message contains the text.
     */
    void awaitAsyncError(final String text)
    {
        await(() -> asyncErrors().stream().anyMatch(message -> message.contains(text)),
            "an asynchronous error saying '" + text + "'; got " + asyncErrors);
    }

    /**
     * @return {CUresult, value1} of the call with that correlation id, once its result arrives.
     */
    long[] awaitResult(final long correlationId)
    {
        final long[][] found = new long[1][];
        await(() ->
        {
            poll();
            for (final long[] entry : results)
            {
                if (entry[0] == correlationId)
                {
                    found[0] = new long[]{entry[1], entry[2]};
                    return true;
                }
            }
            return false;
        }, "the result of call " + correlationId);
        return found[0];
    }

    private int poll()
    {
        return replies.poll(assembler, 64);
    }

    private void onReply(final DirectBuffer buffer, final int offset, final int length, final Header frame)
    {
        header.wrap(buffer, offset);
        switch (header.templateId())
        {
            case SessionOpenReplyDecoder.TEMPLATE_ID ->
            {
                openReply.wrapAndApplyHeader(buffer, offset, header);
                if (openReply.correlationId() != openCorrelationId)
                {
                    return;
                }
                if (openReply.status() == SessionStatus.OPENED)
                {
                    sessionId = openReply.sessionId();
                }
                else
                {
                    refusal = openReply.status().toString();
                }
            }
            case AsyncErrorDecoder.TEMPLATE_ID ->
                asyncErrors.add(asyncError.wrapAndApplyHeader(buffer, offset, header).message());
            case ResultDecoder.TEMPLATE_ID ->
            {
                result.wrapAndApplyHeader(buffer, offset, header);
                results.add(new long[]{result.correlationId(), result.result(), result.value1()});
            }
            default ->
            {
                // Other replies do not concern these tests.
            }
        }
    }

    private void await(final BooleanSupplier condition, final String what)
    {
        final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new IllegalStateException("gave up waiting for " + what);
            }
            poll();
            Thread.onSpinWait();
        }
    }

    public void close()
    {
        CloseHelper.quietCloseAll(requests, replies, link);
    }
}
