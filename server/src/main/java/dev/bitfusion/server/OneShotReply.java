package dev.bitfusion.server;

import io.aeron.Aeron;
import io.aeron.Publication;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.TimeUnit;

/**
 * Sends one message to a client's reply stream from a short-lived thread: refusals and pool listings go
 * to clients that hold no session, so there is no session publication to use. Off the control thread, so
 * a client that never connects cannot stall other clients.
 */
final class OneShotReply
{
    private OneShotReply()
    {
    }

    /**
     * @param aeron     the server's client.
     * @param channel   the reply channel the client named.
     * @param streamId  its reply stream.
     * @param message   the encoded message; copied before this returns.
     * @param length    its length.
     * @param timeoutNs how long to wait for the client to connect.
     * @param errorLog  where failures go.
     */
    static void send(
        final Aeron aeron,
        final String channel,
        final int streamId,
        final DirectBuffer message,
        final int length,
        final long timeoutNs,
        final ServerErrorLog errorLog)
    {
        final UnsafeBuffer copy = new UnsafeBuffer(new byte[length]);
        copy.putBytes(0, message, 0, length);

        final Thread sender = new Thread(() ->
        {
            try (Publication publication = aeron.addExclusivePublication(channel, streamId))
            {
                final long deadlineNs = System.nanoTime() + timeoutNs;
                while (System.nanoTime() < deadlineNs)
                {
                    if (publication.offer(copy, 0, length) > 0)
                    {
                        return;
                    }
                    Thread.sleep(1);
                }
                errorLog.record("client at " + channel + " stream " + streamId + " did not connect to receive a reply");
            }
            catch (final InterruptedException ex)
            {
                Thread.currentThread().interrupt();
            }
            catch (final RuntimeException ex)
            {
                errorLog.record("cannot reply to " + channel + ": " + ex.getMessage());
            }
        }, "bitfusion-reply");
        sender.setDaemon(true);
        sender.start();
    }

    static long timeoutNs(final long livenessTimeoutNs)
    {
        return Math.max(livenessTimeoutNs, TimeUnit.SECONDS.toNanos(2));
    }
}
