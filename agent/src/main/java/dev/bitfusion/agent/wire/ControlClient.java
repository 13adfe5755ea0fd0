package dev.bitfusion.agent.wire;

import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.logbuffer.FragmentHandler;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The one-off control queries, written once: a request on the server's control stream (SessionOpen,
 * ListGpus, HealthQuery) and the wait for its answer on the link's reply subscription. Whoever asks
 * encodes the request, naming {@link ClientLink#replyChannel()}, {@link ClientLink#replyStreamId()} and a
 * correlation id from {@link #newCorrelationId()}, and decodes the answer in its own handler.
 * <p>
 * Thread safety: one exchange at a time; the caller polls the link's replies itself.
 */
public final class ControlClient implements AutoCloseable
{
    private final ClientLink link;
    private final Endpoint server;
    private final Publication control;
    private final IdleStrategy idleStrategy = new BackoffIdleStrategy(
        10, 10, TimeUnit.MICROSECONDS.toNanos(50), TimeUnit.MICROSECONDS.toNanos(200));

    /**
     * @param link   the link to the server, whose replies the exchange polls.
     * @param server the server, for messages.
     */
    public ControlClient(final ClientLink link, final Endpoint server)
    {
        this.link = link;
        this.server = server;
        this.control = link.transport().aeron().addPublication(link.serverChannel(), Protocol.CONTROL_STREAM_ID);
    }

    /**
     * @return a correlation id for a request: random, so answers to other clients' requests never match.
     */
    public static long newCorrelationId()
    {
        return ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
    }

    /**
     * Send a request and receive replies until the handler has its answer.
     *
     * @param request   the encoded request.
     * @param length    its length.
     * @param replies   handles every reply that arrives meanwhile (whole messages, reassembled).
     * @param answered  true once the handler has seen the answer (or a refusal).
     * @param timeoutNs how long to wait for it.
     * @throws SessionRefusedException when no answer comes in time.
     */
    public void exchange(
        final DirectBuffer request,
        final int length,
        final FragmentHandler replies,
        final BooleanSupplier answered,
        final long timeoutNs)
    {
        final FragmentAssembler assembler = new FragmentAssembler(replies);
        final long deadlineNs = System.nanoTime() + timeoutNs;
        boolean sent = false;
        while (!answered.getAsBoolean())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new SessionRefusedException("no answer from bitfusion server " + server + " within " +
                    TimeUnit.NANOSECONDS.toMillis(timeoutNs) + " ms (is it running, and is " + server +
                    " reachable over UDP?)");
            }
            if (!sent)
            {
                sent = control.offer(request, 0, length) > 0;
            }
            idleStrategy.idle(link.replies().poll(assembler, 16));
        }
    }

    public void close()
    {
        control.close();
    }
}
