package dev.bitfusion.server;

import java.io.PrintStream;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's distinct error log: one line per problem (bad client input, clients that vanished), kept
 * off the hot path, with a count for health checks and tests.
 * <p>
 * Thread safety: thread safe.
 */
public final class ServerErrorLog
{
    private final PrintStream out;
    private final boolean logsEvents;
    private final AtomicLong errorCount = new AtomicLong();

    /**
     * @param out where lines go.
     */
    public ServerErrorLog(final PrintStream out)
    {
        this(out, true);
    }

    /**
     * @param out        where lines go.
     * @param logsEvents false for an embedded server, whose session events would only clutter the
     *                   terminal of the program it serves; errors are still written.
     */
    public ServerErrorLog(final PrintStream out, final boolean logsEvents)
    {
        this.out = out;
        this.logsEvents = logsEvents;
    }

    /**
     * @param message one line saying what went wrong and with whom.
     */
    public void record(final String message)
    {
        errorCount.incrementAndGet();
        out.println(Instant.now() + " bitfusion-server: " + message);
    }

    /**
     * @param message an event worth a line, not an error (sessions opening and closing).
     */
    public void info(final String message)
    {
        if (!logsEvents)
        {
            return;
        }
        out.println(Instant.now() + " bitfusion-server: " + message);
    }

    public long errorCount()
    {
        return errorCount.get();
    }
}
