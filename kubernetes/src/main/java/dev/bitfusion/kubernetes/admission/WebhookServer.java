package dev.bitfusion.kubernetes.admission;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The webhook's HTTPS endpoint: {@code POST /mutate} takes an AdmissionReview and answers it through an
 * {@link AdmissionReviewHandler}; {@code GET /healthz} answers {@code ok} for the readiness probe. Reviews
 * run on a fixed pool of threads, each on its own objects.
 * <p>
 * Thread safety: {@link #start} and {@link #close} from one thread; requests are served concurrently.
 */
public final class WebhookServer implements AutoCloseable
{
    /** The path the MutatingWebhookConfiguration names. */
    public static final String MUTATE_PATH = "/mutate";
    /** The path of the probes. */
    public static final String HEALTH_PATH = "/healthz";
    /** Bigger than any pod the API server admits (objects are capped near 1.5 MiB) with its review around it. */
    static final int MAX_BODY_BYTES = 4 * 1024 * 1024;
    private static final int QUEUE_CAPACITY = 1024;

    private final HttpsServer server;
    private final ExecutorService executor;

    private WebhookServer(final HttpsServer server, final ExecutorService executor)
    {
        this.server = server;
        this.executor = executor;
    }

    /**
     * @param address where to listen; port 0 picks a free one.
     * @param tls     the server's certificate and key.
     * @param handler answers reviews.
     * @param threads how many reviews run at once.
     * @return the running server.
     * @throws IOException when the address cannot be bound.
     */
    public static WebhookServer start(
        final InetSocketAddress address, final SSLContext tls, final AdmissionReviewHandler handler, final int threads)
        throws IOException
    {
        final HttpsServer server = HttpsServer.create(address, QUEUE_CAPACITY);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        final AtomicInteger threadCount = new AtomicInteger();
        // Bounded: a flood of reviews queues, and past the queue the API server's own timeout answers.
        final ThreadPoolExecutor executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(QUEUE_CAPACITY), runnable ->
            {
                final Thread thread = new Thread(runnable, "bitfusion-webhook-" + threadCount.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
        server.setExecutor(executor);
        server.createContext(MUTATE_PATH, exchange -> mutate(exchange, handler));
        server.createContext(HEALTH_PATH, exchange -> respond(exchange, 200, "text/plain", "ok\n".getBytes(StandardCharsets.US_ASCII)));
        server.start();
        return new WebhookServer(server, executor);
    }

    /**
     * @return the address it listens on, with the port it got.
     */
    public InetSocketAddress address()
    {
        return server.getAddress();
    }

    /**
     * Stops taking requests, lets those in flight finish for up to a second, and stops the threads.
     */
    public void close()
    {
        server.stop(1);
        executor.shutdownNow();
    }

    private static void mutate(final HttpExchange exchange, final AdmissionReviewHandler handler) throws IOException
    {
        try (exchange)
        {
            if (!"POST".equals(exchange.getRequestMethod()))
            {
                respond(exchange, 405, "text/plain", "POST an AdmissionReview\n".getBytes(StandardCharsets.US_ASCII));
                return;
            }
            final byte[] body;
            try (InputStream in = exchange.getRequestBody())
            {
                body = in.readNBytes(MAX_BODY_BYTES + 1);
            }
            if (body.length > MAX_BODY_BYTES)
            {
                respond(exchange, 413, "text/plain", "review too large\n".getBytes(StandardCharsets.US_ASCII));
                return;
            }
            final byte[] answer;
            try
            {
                answer = handler.review(body);
            }
            catch (final IllegalArgumentException ex)
            {
                respond(exchange, 400, "text/plain", (ex.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
                return;
            }
            respond(exchange, 200, "application/json", answer);
        }
    }

    private static void respond(final HttpExchange exchange, final int status, final String type, final byte[] body)
        throws IOException
    {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody())
        {
            out.write(body);
        }
    }
}
