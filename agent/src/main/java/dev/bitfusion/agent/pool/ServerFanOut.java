package dev.bitfusion.agent.pool;

import dev.bitfusion.transport.Endpoint;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Asks every server of a pool the same question at once, so a pool of many servers, some of them down, answers in
 * about one timeout rather than one per server. Every command that asks the whole pool asks through it:
 * {@code bitfusion run}, {@code list_gpus} and {@code smi} for the pool's GPUs ({@link PoolQuery#listGpusOfAll}),
 * {@code health} for each server's facts.
 * <p>
 * Thread safety: stateless; each call has threads of its own, which end with it.
 */
public final class ServerFanOut
{
    /** At most this many servers are asked at the same moment; each ask holds a thread and a link while it waits. */
    static final int MAX_ASKERS = 16;

    private ServerFanOut()
    {
    }

    /**
     * What one server answered, or why it did not.
     *
     * @param server  where it is.
     * @param answer  its answer, or null when it gave none.
     * @param failure why it gave none, or null.
     * @param <T>     the answer's type.
     */
    public record Reply<T>(Endpoint server, T answer, RuntimeException failure)
    {
        /**
         * @return why the server gave no answer, for people: the failure's message, else its kind.
         */
        public String reason()
        {
            if (failure == null)
            {
                return null;
            }
            return failure.getMessage() != null && !failure.getMessage().isBlank() ?
                failure.getMessage() : failure.getClass().getSimpleName();
        }
    }

    /**
     * @param servers  the pool.
     * @param question asks one server, bounded by its own timeout; what it throws becomes that server's failure.
     * @param <T>      the answer's type.
     * @return one reply per server, in the order given, once every server has answered or failed.
     * @throws InterruptedException when interrupted while waiting; the asks still running are interrupted.
     */
    public static <T> List<Reply<T>> ask(final List<Endpoint> servers, final Function<Endpoint, T> question)
        throws InterruptedException
    {
        final AtomicInteger threadCount = new AtomicInteger();
        final ExecutorService askers = Executors.newFixedThreadPool(Math.max(1, Math.min(servers.size(), MAX_ASKERS)),
            task ->
            {
                final Thread thread = new Thread(task, "bitfusion-pool-ask-" + threadCount.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
        try
        {
            final List<Future<Reply<T>>> asked = new ArrayList<>();
            for (final Endpoint server : servers)
            {
                asked.add(askers.submit(() -> askOne(server, question)));
            }
            final List<Reply<T>> replies = new ArrayList<>();
            for (final Future<Reply<T>> reply : asked)
            {
                try
                {
                    replies.add(reply.get());
                }
                catch (final ExecutionException ex)
                {
                    // askOne catches what a server can cause; what is left (an Error) is this process's own trouble.
                    throw new IllegalStateException(ex.getCause());
                }
            }
            return replies;
        }
        finally
        {
            askers.shutdownNow();
        }
    }

    private static <T> Reply<T> askOne(final Endpoint server, final Function<Endpoint, T> question)
    {
        try
        {
            return new Reply<>(server, question.apply(server), null);
        }
        catch (final RuntimeException ex)
        {
            return new Reply<>(server, null, ex);
        }
    }
}
