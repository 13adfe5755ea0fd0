package dev.bitfusion.benchmarks.transport;

import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.TransportSettings;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import org.agrona.CloseHelper;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.net.DatagramSocket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The baseline of a synchronous call: raw Aeron ping-pong of a small message over the same kind of
 * channel, media drivers and idle strategies as a bitfusion session, with no protocol on top.
 */
final class AeronPingPong implements AutoCloseable
{
    private static final int PING_STREAM = 9001;
    private static final int PONG_STREAM = 9002;
    private static final int MESSAGE_LENGTH = 32;

    private final AeronTransport serverSide;
    private final AeronTransport clientSide;
    private final Publication ping;
    private final Subscription pongs;
    private final Thread ponger;
    private final UnsafeBuffer message = new UnsafeBuffer(new byte[MESSAGE_LENGTH]);
    private final FragmentHandler onPong = (buffer, offset, length, header) -> received = true;
    private volatile boolean running = true;
    private boolean received;

    AeronPingPong(final String transport) throws IOException
    {
        final String suffix = ProcessHandle.current().pid() + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        final TransportSettings serverSettings =
            new TransportSettings().aeronDirectoryName(TransportSettings.defaultAeronDirectory("pp-server-" + suffix));
        serverSide = AeronTransport.launchEmbedded(serverSettings);
        final String serverChannel;
        final String clientChannel;
        if (transport.equals("ipc"))
        {
            clientSide = serverSide;
            serverChannel = ChannelUris.ipc(serverSettings);
            clientChannel = serverChannel;
        }
        else
        {
            final TransportSettings clientSettings =
                new TransportSettings().aeronDirectoryName(TransportSettings.defaultAeronDirectory("pp-client-" + suffix));
            clientSide = AeronTransport.launchEmbedded(clientSettings);
            serverChannel = ChannelUris.udp(new Endpoint("127.0.0.1", freePort()), serverSettings);
            clientChannel = ChannelUris.udp(new Endpoint("127.0.0.1", freePort()), clientSettings);
        }

        final Subscription pings = serverSide.aeron().addSubscription(serverChannel, PING_STREAM);
        final Publication pongPublication = serverSide.aeron().addExclusivePublication(clientChannel, PONG_STREAM);
        ping = clientSide.aeron().addPublication(serverChannel, PING_STREAM);
        pongs = clientSide.aeron().addSubscription(clientChannel, PONG_STREAM);
        while (!ping.isConnected() || !pongPublication.isConnected())
        {
            Thread.onSpinWait();
        }

        ponger = new Thread(() ->
        {
            final IdleStrategy idle = new BackoffIdleStrategy(
                100, 10, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MICROSECONDS.toNanos(200));
            final FragmentHandler echo = (buffer, offset, length, header) ->
            {
                while (pongPublication.offer(buffer, offset, length) < 0)
                {
                    Thread.onSpinWait();
                }
            };
            while (running)
            {
                idle.idle(pings.poll(echo, 16));
            }
            CloseHelper.quietCloseAll(pings, pongPublication);
        }, "pong");
        ponger.setDaemon(true);
        ponger.start();
    }

    /**
     * One ping and its pong, waiting as a bitfusion caller waits for its reply.
     */
    void roundTrip()
    {
        while (ping.offer(message, 0, MESSAGE_LENGTH) < 0)
        {
            Thread.onSpinWait();
        }
        received = false;
        int idleCount = 0;
        while (!received)
        {
            if (pongs.poll(onPong, 1) == 0 && ++idleCount > 200)
            {
                Thread.yield();
            }
        }
    }

    private static int freePort() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            return socket.getLocalPort();
        }
    }

    public void close() throws InterruptedException
    {
        running = false;
        ponger.join(2000);
        CloseHelper.quietCloseAll(ping, pongs);
        if (clientSide != serverSide)
        {
            clientSide.close();
        }
        serverSide.close();
    }
}
