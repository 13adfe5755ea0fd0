package dev.bitfusion.server;

import org.agrona.BitUtil;
import org.agrona.ErrorHandler;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.SystemEpochClock;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.errors.DistinctErrorLog;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's error log: Agrona's {@link DistinctErrorLog} (in memory) counts each distinct problem (bad client
 * input, clients that vanished, failed sessions) with its first and last time, and the first occurrence of each
 * is written to the output as one line, so an operator sees every kind of problem once however often a client
 * repeats it. Session events (opened, ended) are written as lines of their own.
 * <p>
 * Errors are distinct by their message: the same words from another client count as a repeat.
 * <p>
 * Thread safety: thread safe; recording takes a lock, so it stays off the hot path.
 */
public final class ServerErrorLog implements ErrorHandler
{
    /** Room for distinct errors; once it is full, new ones are still counted but neither kept nor written. */
    public static final int LOG_BYTES = 1024 * 1024;

    /** An error as the distinct log keeps it: its message, without a stack trace, which would make each distinct. */
    private static final class ServerError extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        ServerError(final String message)
        {
            super(message, null, false, false);
        }
    }

    private final PrintStream out;
    private final boolean logsEvents;
    private final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(LOG_BYTES));
    private final DistinctErrorLog distinctErrors = new DistinctErrorLog(buffer, SystemEpochClock.INSTANCE);
    private final AtomicLong errorCount = new AtomicLong();
    /** Where the distinct log appends its next new entry: an entry appearing there is a first occurrence. */
    private int nextEntryOffset;
    private boolean fullReported;

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
        record(new ServerError(message), message);
    }

    /**
     * A failure an agent runner caught. An {@link AgentTerminationException} is how the server's agents end
     * when their work is done (a session closed), so it is no error and is not recorded.
     *
     * @param throwable what was thrown.
     */
    public void onError(final Throwable throwable)
    {
        if (!(throwable instanceof AgentTerminationException))
        {
            record(throwable, String.valueOf(throwable));
        }
    }

    /**
     * @param message an event worth a line, not an error (sessions opening and closing).
     */
    public void info(final String message)
    {
        if (logsEvents)
        {
            out.println(Instant.now() + " bitfusion-server: " + message);
        }
    }

    /**
     * @return every error recorded, repeats included.
     */
    public long errorCount()
    {
        return errorCount.get();
    }

    private synchronized void record(final Throwable error, final String line)
    {
        errorCount.incrementAndGet();
        if (!distinctErrors.record(error))
        {
            if (!fullReported)
            {
                fullReported = true;
                out.println(Instant.now() + " bitfusion-server: the error log is full (" + LOG_BYTES +
                    " bytes); new kinds of error are counted from now on, not shown");
            }
            return;
        }
        boolean first = false;
        int length;
        while (nextEntryOffset < buffer.capacity() - DistinctErrorLog.ENCODED_ERROR_OFFSET &&
            (length = buffer.getIntVolatile(nextEntryOffset + DistinctErrorLog.LENGTH_OFFSET)) > 0)
        {
            nextEntryOffset += BitUtil.align(length, DistinctErrorLog.RECORD_ALIGNMENT);
            first = true;
        }
        if (first)
        {
            out.println(Instant.now() + " bitfusion-server: " + line);
        }
    }
}
