package dev.bitfusion.server;

import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.TransportSettings;
import dev.bitfusion.transport.protocol.MessageHeaderDecoder;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the wire classes' component tests share: an embedded media driver in its own Aeron directory, whose
 * IPC streams carry a test's requests and the server's replies, and a client's view of those replies.
 */
final class IpcFixture
{
    /** Channels with small terms, so that a test can fill a stream and meet back pressure. */
    static final String REQUEST_CHANNEL = "aeron:ipc?term-length=1m";
    static final String REPLY_CHANNEL = "aeron:ipc?term-length=64k";
    static final long AWAIT_NS = TimeUnit.SECONDS.toNanos(10);

    private IpcFixture()
    {
    }

    /**
     * @param livenessTimeoutNs how soon silent peers count as gone.
     * @return a media driver and client of the test's own, deleted on close.
     */
    static AeronTransport launchTransport(final long livenessTimeoutNs)
    {
        return AeronTransport.launchEmbedded(new TransportSettings()
            .aeronDirectoryName(TransportSettings.defaultAeronDirectory("server-test-" + UUID.randomUUID()))
            .termLength(1 << 20)
            .livenessTimeoutNs(livenessTimeoutNs));
    }

    /**
     * Do work until a condition holds.
     *
     * @param work      one turn of the agents under test and of the test's client.
     * @param condition what the test waits for.
     * @param what      said when it never comes.
     */
    static void await(final Runnable work, final BooleanSupplier condition, final String what)
    {
        final long deadlineNs = System.nanoTime() + AWAIT_NS;
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadlineNs)
            {
                fail("gave up waiting for " + what);
            }
            work.run();
            Thread.onSpinWait();
        }
    }

    /**
     * Messages a client received, each copied as it arrived.
     */
    static final class Received implements FragmentHandler
    {
        final List<UnsafeBuffer> messages = new ArrayList<>();
        private final Subscription subscription;
        private final MessageHeaderDecoder header = new MessageHeaderDecoder();

        Received(final Subscription subscription)
        {
            this.subscription = subscription;
        }

        int poll()
        {
            return subscription.poll(this, 64);
        }

        public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header fragment)
        {
            final UnsafeBuffer copy = new UnsafeBuffer(new byte[length]);
            copy.putBytes(0, buffer, offset, length);
            messages.add(copy);
        }

        int count(final int templateId)
        {
            int count = 0;
            for (final UnsafeBuffer message : messages)
            {
                count += header.wrap(message, 0).templateId() == templateId ? 1 : 0;
            }
            return count;
        }

        /**
         * @return the last message of that template, or null.
         */
        UnsafeBuffer last(final int templateId)
        {
            for (int i = messages.size() - 1; i >= 0; i--)
            {
                if (header.wrap(messages.get(i), 0).templateId() == templateId)
                {
                    return messages.get(i);
                }
            }
            return null;
        }
    }
}
