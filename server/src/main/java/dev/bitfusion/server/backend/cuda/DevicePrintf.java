package dev.bitfusion.server.backend.cuda;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * Device printf on a real GPU reaches the program that launched the kernel. The driver writes a context's
 * printf output to the server's standard output when the host synchronises with that context, so standard
 * output is made a pipe (the server's own messages keep going where standard output went) and a reader
 * thread takes what arrives.
 * <p>
 * Text in the pipe carries no owner, so the synchronisations of sessions whose modules call printf take
 * turns: while one runs, everything read belongs to that session. When its call returns, a marker written
 * into the same pipe tells the reader that the session's text is all in, and the text goes to the session
 * before its reply. Sessions without printf never take turns or wait here.
 * <p>
 * Thread safety: {@link #synchronize} may be called from any session thread.
 */
final class DevicePrintf
{
    private static final int CHUNK_BYTES = 64 * 1024;
    /** How long the marker may take to come through the pipe before the text is given up as lost. */
    private static final long MARKER_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);
    private static volatile DevicePrintf instance;
    private static boolean installFailed;

    /** Serialises the synchronisations of printf sessions. */
    private final ReentrantLock turn = new ReentrantLock();
    private final ReentrantLock state = new ReentrantLock();
    private final Condition markerSeen = state.newCondition();
    private final OutputStream pipeWriter = new FileOutputStream(FileDescriptor.out);
    private final PrintStream serverOutput;
    private final StringBuilder ownerText = new StringBuilder();
    private boolean owned;
    /** The reader stopped: synchronisations no longer wait for text that cannot come. */
    private volatile boolean readerStopped;
    private String awaitedMarker;
    private boolean awaitedMarkerSeen;
    private long markers;

    private DevicePrintf(final InputStream pipe, final PrintStream serverOutput)
    {
        this.serverOutput = serverOutput;
        final Thread reader = new Thread(() -> read(pipe), "bitfusion-device-printf");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * @return the process's capture, installed on first use; null when standard output cannot be taken over
     * (device printf then stays on the server's standard output).
     */
    static DevicePrintf get()
    {
        DevicePrintf current = instance;
        if (current == null)
        {
            synchronized (DevicePrintf.class)
            {
                current = instance;
                if (current == null && !installFailed)
                {
                    current = install();
                    installFailed = current == null;
                    instance = current;
                }
            }
        }
        return current;
    }

    private static DevicePrintf install()
    {
        final int[] fds = new int[2];
        if (!DriverExtras.redirectStdout(fds))
        {
            System.err.println("bitfusion server: device printf stays on the server's standard output (it cannot be " +
                "taken over)");
            return null;
        }
        final FileDescriptor pipe = DriverExtras.descriptor(fds[0]);
        final FileDescriptor formerOutput = DriverExtras.descriptor(fds[1]);
        if (pipe == null || formerOutput == null)
        {
            System.err.println("bitfusion server: device printf stays on the server's standard output");
            return null;
        }
        final PrintStream serverOutput = new PrintStream(new FileOutputStream(formerOutput), true);
        System.setOut(serverOutput);
        return new DevicePrintf(new FileInputStream(pipe), serverOutput);
    }

    /**
     * Runs a synchronising driver call of a session whose modules call printf, and hands what its kernels
     * printed to the session's sink before returning.
     */
    int synchronize(final IntSupplier call, final Consumer<String> sink)
    {
        if (readerStopped)
        {
            return call.getAsInt();
        }
        turn.lock();
        try
        {
            state.lock();
            try
            {
                owned = true;
                ownerText.setLength(0);
            }
            finally
            {
                state.unlock();
            }
            final int status = call.getAsInt();
            final String text = awaitOwnText();
            if (!text.isEmpty())
            {
                sink.accept(text);
            }
            return status;
        }
        finally
        {
            turn.unlock();
        }
    }

    private String awaitOwnText()
    {
        final String marker = "\0bitfusion-printf-" + (++markers) + "\0";
        state.lock();
        try
        {
            awaitedMarker = marker;
            awaitedMarkerSeen = false;
        }
        finally
        {
            state.unlock();
        }
        try
        {
            // One write of fewer than PIPE_BUF bytes: it lands whole, after everything the call wrote.
            pipeWriter.write(marker.getBytes(StandardCharsets.ISO_8859_1));
        }
        catch (final IOException ex)
        {
            return "";
        }
        state.lock();
        try
        {
            long remainingNs = MARKER_TIMEOUT_NS;
            while (!awaitedMarkerSeen && !readerStopped && remainingNs > 0)
            {
                try
                {
                    remainingNs = markerSeen.awaitNanos(remainingNs);
                }
                catch (final InterruptedException ex)
                {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (!awaitedMarkerSeen)
            {
                owned = false;
                awaitedMarker = null;
                serverOutput.println("bitfusion server: device printf text of a synchronisation was lost");
            }
            final String text = ownerText.toString();
            ownerText.setLength(0);
            return text;
        }
        finally
        {
            state.unlock();
        }
    }

    private void read(final InputStream pipe)
    {
        final byte[] chunk = new byte[CHUNK_BYTES];
        try
        {
            int length;
            while ((length = pipe.read(chunk)) > 0)
            {
                accept(new String(chunk, 0, length, StandardCharsets.ISO_8859_1));
            }
        }
        catch (final IOException ex)
        {
            serverOutput.println("bitfusion server: device printf capture stopped: " + ex.getMessage());
        }
        state.lock();
        try
        {
            readerStopped = true;
            markerSeen.signalAll();
        }
        finally
        {
            state.unlock();
        }
    }

    /** Text before a session's marker is its own; anything else belongs to the server's output. */
    private void accept(final String text)
    {
        state.lock();
        try
        {
            if (!owned)
            {
                serverOutput.print(decode(text));
                return;
            }
            ownerText.append(text);
            final int at = awaitedMarker == null ? -1 : ownerText.indexOf(awaitedMarker);
            if (at >= 0)
            {
                final String after = ownerText.substring(at + awaitedMarker.length());
                ownerText.setLength(at);
                final String own = decode(ownerText.toString());
                ownerText.setLength(0);
                ownerText.append(own);
                awaitedMarker = null;
                awaitedMarkerSeen = true;
                owned = false;
                if (!after.isEmpty())
                {
                    serverOutput.print(decode(after));
                }
                markerSeen.signalAll();
            }
        }
        finally
        {
            state.unlock();
        }
    }

    /** The pipe carries bytes, kept one char per byte until whole; device printf writes UTF-8. */
    private static String decode(final String bytes)
    {
        return new String(bytes.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }
}
