package dev.bitfusion.agent.wire;

import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * The one-off control queries, written once: a request on the server's control stream (SessionOpen, ListGpus,
 * HealthQuery) and the wait for its answer on this exchange's own reply subscription. Whoever asks encodes the
 * request, naming {@link #replyStreamId()} and a correlation id from {@link #newCorrelationId()}, and decodes the
 * answer in its own handler.
 * <p>
 * Thread safety: one exchange at a time, from one thread.
 */
public final class ControlClient implements AutoCloseable
{
    /**
     * Padding a query carries: a server with a token never answers a request it cannot authenticate with more
     * bytes than it received (no amplification), so this is the room its refusal has to say why.
     */
    public static final byte[] REFUSAL_ROOM = new byte[192];

    private final Endpoint server;
    private final int replyStreamId = Protocol.newClientStreamId();
    private final Subscription replies;
    private final ExclusivePublication control;
    private final IdleStrategy idleStrategy = new BackoffIdleStrategy(
        10, 10, TimeUnit.MICROSECONDS.toNanos(50), TimeUnit.MICROSECONDS.toNanos(200));

    /**
     * @param link   the link to the server.
     * @param server the server, for messages.
     */
    public ControlClient(final ClientLink link, final Endpoint server)
    {
        this.server = server;
        this.replies = link.addReplySubscription(replyStreamId);
        try
        {
            this.control = link.addExclusiveRequestPublication(Protocol.CONTROL_STREAM_ID, replies);
        }
        catch (final RuntimeException ex)
        {
            replies.close();
            throw ex;
        }
    }

    /**
     * @return a correlation id for a request: random, so answers to other clients' requests never match.
     */
    public static long newCorrelationId()
    {
        return ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
    }

    /**
     * @return the stream this exchange's replies arrive on, for the request to name.
     */
    public int replyStreamId()
    {
        return replyStreamId;
    }

    /**
     * Send a request and receive replies until the handler has its answer.
     *
     * @param request   the encoded request.
     * @param length    its length.
     * @param handler   handles every reply that arrives meanwhile (whole messages, reassembled).
     * @param answered  true once the handler has seen the answer (or a refusal).
     * @param timeoutNs how long to wait for it.
     * @throws SessionRefusedException when no answer comes in time.
     */
    public void exchange(
        final DirectBuffer request,
        final int length,
        final FragmentHandler handler,
        final BooleanSupplier answered,
        final long timeoutNs)
    {
        exchange(request, length, handler, answered, () -> 0, timeoutNs);
    }

    /**
     * As {@link #exchange(DirectBuffer, int, FragmentHandler, BooleanSupplier, long)}, polling besides where else
     * the answer may come (a session's own replies, for a SessionOpen).
     *
     * @param alsoPoll polls another subscription, returning the fragments it took.
     */
    public void exchange(
        final DirectBuffer request,
        final int length,
        final FragmentHandler handler,
        final BooleanSupplier answered,
        final IntSupplier alsoPoll,
        final long timeoutNs)
    {
        final FragmentAssembler assembler = new FragmentAssembler(handler);
        final long deadlineNs = System.nanoTime() + timeoutNs;
        boolean sent = false;
        while (!answered.getAsBoolean())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new SessionRefusedException("no answer from bitfusion server " + server + " within " +
                    TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms (is it running, and are UDP ports " +
                    server.port() + " and " + Protocol.responsePort(server.port()) + " of " + server.host() +
                    " reachable?)");
            }
            if (!sent)
            {
                sent = control.offer(request, 0, length) > 0;
            }
            idleStrategy.idle(replies.poll(assembler, 16) + alsoPoll.getAsInt());
        }
    }

    public void close()
    {
        CloseHelper.quietCloseAll(control, replies);
    }
}
