package dev.bitfusion.server;

import dev.bitfusion.server.status.ServerCounters;
import dev.bitfusion.transport.AeronTransport;
import io.aeron.Counter;
import io.aeron.Subscription;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.server.IpcFixture.*;
import static org.junit.jupiter.api.Assertions.*;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ControlReplySenderTest
{
    private static final long REPLY_TIMEOUT_NS = TimeUnit.MILLISECONDS.toNanos(300);
    private static final int REPLY_STREAM = 3_001;

    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private final ServerErrorLog errorLog = new ServerErrorLog(new PrintStream(log, true, StandardCharsets.UTF_8));
    private final UnsafeBuffer message = new UnsafeBuffer(new byte[64 * 1024]);
    private final List<Subscription> subscriptions = new ArrayList<>();
    private AeronTransport transport;
    private Counter dropped;
    private ControlReplySender sender;

    @BeforeEach
    void open()
    {
        transport = launchTransport(TimeUnit.SECONDS.toNanos(5));
        dropped = ServerCounters.controlRepliesDropped(transport.aeron());
        sender = new ControlReplySender(transport.aeron(), errorLog, dropped, REPLY_TIMEOUT_NS);
    }

    @AfterEach
    void close()
    {
        sender.onClose();
        CloseHelper.closeAll(subscriptions);
        CloseHelper.closeAll(dropped, transport);
    }

    @Test
    void shouldDropAndCountRepliesOnceItsQueueIsFull()
    {
        final int length = 32 * 1024;
        int refused = 0;
        for (int i = 0; i < 100; i++)
        {
            refused += sender.send(REPLY_CHANNEL, REPLY_STREAM, message, length) ? 0 : 1;
        }

        assertTrue(refused > 60, "at most a megabyte of replies waits: " + refused + " of 100 refused");
        assertEquals(refused, dropped.get());
        assertEquals(refused, errorLog.errorCount());
        assertEquals(1, log.toString(StandardCharsets.UTF_8).lines()
            .filter(line -> line.contains(ControlReplySender.DROPPED_MESSAGE)).count(), "written once, counted always");
    }

    @Test
    void shouldKeepRepliesUntilTheirClientConnectsAndSendThemInOrder()
    {
        for (int i = 1; i <= 3; i++)
        {
            message.putInt(0, i);
            assertTrue(sender.send(REPLY_CHANNEL, REPLY_STREAM, message, Integer.BYTES));
        }
        for (int i = 0; i < 100; i++)
        {
            sender.doWork();
        }

        final Received received = new Received(subscribe(REPLY_STREAM));
        await(() ->
        {
            sender.doWork();
            received.poll();
        }, () -> received.messages.size() == 3, "three replies");
        assertEquals(List.of(1, 2, 3), received.messages.stream().map(reply -> reply.getInt(0)).toList());
        assertEquals(1, sender.publicationCount(), "one publication for one client");
        assertEquals(0, dropped.get());
    }

    @Test
    void shouldGiveUpOnAClientThatNeverConnectsAndCloseItsPublication()
    {
        assertTrue(sender.send(REPLY_CHANNEL, REPLY_STREAM, message, 16));

        await(sender::doWork, () -> sender.publicationCount() == 1, "a publication to the client");
        await(sender::doWork, () -> sender.publicationCount() == 0, "the publication closed");
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("stream " + REPLY_STREAM +
            " did not connect to receive a reply"), log::toString);
    }

    @Test
    void shouldOpenNoMorePublicationsThanItsBoundWhenManyClientsNeverConnect()
    {
        final int clients = ControlReplySender.MAX_PUBLICATIONS * 2 + 5;
        for (int i = 0; i < clients; i++)
        {
            assertTrue(sender.send(REPLY_CHANNEL, REPLY_STREAM + i, message, 16));
        }

        int most = 0;
        final long deadlineNs = System.nanoTime() + AWAIT_NS;
        while (errorLog.errorCount() < clients && System.nanoTime() < deadlineNs)
        {
            sender.doWork();
            most = Math.max(most, sender.publicationCount());
        }

        assertEquals(ControlReplySender.MAX_PUBLICATIONS, most);
        assertEquals(clients, errorLog.errorCount(), "each client given up on in its turn");
        assertEquals(0, dropped.get(), "none dropped: the later ones waited in the queue");
    }

    /**
     * Over UDP a channel is one source's path: a source whose reply still waits for its client gets no second
     * publication, so a stranger naming stream after stream holds one publication, not all of them.
     */
    @Test
    void shouldGiveASourceWhoseReplyWaitsNoSecondPublication() throws Exception
    {
        final String stranger = "aeron:udp?endpoint=127.0.0.1:" + freeUdpPort();
        final String other = "aeron:udp?endpoint=127.0.0.1:" + freeUdpPort();
        for (int i = 0; i < 10; i++)
        {
            assertTrue(sender.send(stranger, REPLY_STREAM + i, message, 16));
        }
        assertTrue(sender.send(other, REPLY_STREAM, message, 16));

        await(sender::doWork, () -> sender.publicationCount() == 2, "a publication for each source");
        assertEquals(9, dropped.get(), "the stranger's replies to its other streams dropped");
    }

    private static int freeUdpPort() throws java.io.IOException
    {
        try (java.net.DatagramSocket socket = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress()))
        {
            return socket.getLocalPort();
        }
    }

    @Test
    void shouldCloseAPublicationLeftIdle()
    {
        final Received received = new Received(subscribe(REPLY_STREAM));
        assertTrue(sender.send(REPLY_CHANNEL, REPLY_STREAM, message, 16));
        await(() ->
        {
            sender.doWork();
            received.poll();
        }, () -> received.messages.size() == 1, "the reply");

        await(sender::doWork, () -> sender.publicationCount() == 0, "the idle publication closed");
        assertEquals(0, errorLog.errorCount());
    }

    private Subscription subscribe(final int streamId)
    {
        final Subscription subscription = transport.aeron().addSubscription(REPLY_CHANNEL, streamId);
        subscriptions.add(subscription);
        return subscription;
    }
}
