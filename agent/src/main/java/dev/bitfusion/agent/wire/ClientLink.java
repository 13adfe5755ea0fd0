package dev.bitfusion.agent.wire;

import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.LocalRoute;
import dev.bitfusion.transport.OwnerLock;
import dev.bitfusion.transport.TransportSettings;
import io.aeron.ChannelUri;
import io.aeron.ChannelUriStringBuilder;
import io.aeron.Subscription;
import org.agrona.CloseHelper;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The Aeron plumbing from this process to one server: a transport (the server's own media driver over
 * shared memory when it runs on this host, else an embedded one speaking UDP), the subscription replies
 * arrive on, and the channels both sides name.
 * <p>
 * Thread safety: immutable once made; {@link #close()} once, from one thread.
 */
public final class ClientLink implements AutoCloseable
{
    /** Binding is local work of this process's own driver, yet on a loaded host it has taken over 2 s. */
    private static final long REPLY_PORT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);

    private final AeronTransport transport;
    private final Subscription replies;
    private final String serverChannel;
    private final String replyChannel;
    private final int replyStreamId;
    private final boolean ipc;
    private final OwnerLock processLock;

    private ClientLink(
        final AeronTransport transport,
        final Subscription replies,
        final String serverChannel,
        final String replyChannel,
        final int replyStreamId,
        final boolean ipc,
        final OwnerLock processLock)
    {
        this.processLock = processLock;
        this.transport = transport;
        this.replies = replies;
        this.serverChannel = serverChannel;
        this.replyChannel = replyChannel;
        this.replyStreamId = replyStreamId;
        this.ipc = ipc;
    }

    /**
     * @param server    the server.
     * @param transport "auto" (shared memory when the server's media driver runs on this host), "udp" or "ipc".
     * @param purpose   a word naming the embedded media driver's directory (session, query, health).
     * @return a link whose reply subscription is bound and ready.
     */
    public static ClientLink towards(final Endpoint server, final String transport, final String purpose)
    {
        final String serverDirectory = TransportSettings.defaultAeronDirectory("server-" + server.port());
        final boolean serverIsLocal = Endpoint.isLoopback(server.host()) || isLocalAddress(server.host());
        if (transport.equals("ipc"))
        {
            return ipc(serverDirectory);
        }
        if (transport.equals("auto") && serverIsLocal && AeronTransport.isDriverActive(serverDirectory))
        {
            try
            {
                return ipc(serverDirectory);
            }
            catch (final RuntimeException ex)
            {
                // The server's driver stopped or restarted between the look and the connect: UDP still reaches it.
                System.err.println("bitfusion: shared memory with the server at " + server + " failed (" +
                    ex.getMessage() + "); using UDP");
            }
        }
        return udp(server, purpose);
    }

    private static ClientLink ipc(final String serverDirectory)
    {
        AeronTransport transport = null;
        Subscription replies = null;
        OwnerLock processLock = null;
        try
        {
            final TransportSettings settings = new TransportSettings().aeronDirectoryName(serverDirectory);
            transport = AeronTransport.connect(settings);
            final String channel = ChannelUris.ipc(settings);
            final int replyStreamId = (int)(transport.aeron().nextCorrelationId() & 0x3fff_ffff) | 0x4000_0000;
            processLock = lockForServer(serverDirectory, replyStreamId);
            replies = transport.aeron().addSubscription(channel, replyStreamId);
            return new ClientLink(transport, replies, channel, channel, replyStreamId, true, processLock);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(replies, transport, processLock);
            throw ex;
        }
    }

    /**
     * The server's driver notices a dead IPC client only after its client liveness timeout, which also bounds the
     * pauses the server itself survives; the lock tells the server at once (see {@code ClientSession}).
     *
     * @return the lock, or null when none can be had: the server then relies on the driver alone.
     */
    private static OwnerLock lockForServer(final String serverDirectory, final int replyStreamId)
    {
        try
        {
            return OwnerLock.acquire(OwnerLock.ipcClientFile(serverDirectory, replyStreamId));
        }
        catch (final IOException ex)
        {
            return null;
        }
    }

    private static ClientLink udp(final Endpoint server, final String purpose)
    {
        AeronTransport transport = null;
        Subscription replies = null;
        try
        {
            final TransportSettings settings = new TransportSettings().aeronDirectoryName(
                TransportSettings.defaultAeronDirectory(purpose + "-" + ProcessHandle.current().pid() + "-" +
                Long.toHexString(ThreadLocalRandom.current().nextLong())));
            transport = AeronTransport.launchEmbedded(settings);
            final String localHost = LocalRoute.addressTowards(server);
            final int replyStreamId = 1;
            replies = transport.aeron().addSubscription(
                new ChannelUriStringBuilder().media("udp").endpoint(localHost + ":0").build(), replyStreamId);
            return new ClientLink(transport, replies, ChannelUris.udp(server, settings),
                resolveReplyChannel(replies, settings), replyStreamId, false, null);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(replies, transport);
            throw ex;
        }
    }

    /** The wildcard port the reply subscription bound, as a channel the server can publish to. */
    private static String resolveReplyChannel(final Subscription replies, final TransportSettings settings)
    {
        final long deadlineNs = System.nanoTime() + REPLY_PORT_TIMEOUT_NS;
        String resolved;
        while ((resolved = replies.tryResolveChannelEndpointPort()) == null ||
            resolved.contains(":0|") || resolved.endsWith(":0"))
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new SessionRefusedException("could not bind a local UDP port for replies");
            }
            LockSupport.parkNanos(100_000);
        }
        final String endpoint = ChannelUri.parse(resolved).get("endpoint");
        final String host = endpoint.substring(0, endpoint.lastIndexOf(':'));
        return new ChannelUriStringBuilder()
            .media("udp")
            .endpoint(endpoint)
            .mtu(settings.udpMtuFor(host.replace("[", "").replace("]", "")))
            .termLength(settings.termLength())
            .build();
    }

    private static boolean isLocalAddress(final String host)
    {
        try
        {
            return NetworkInterface.getByInetAddress(InetAddress.getByName(host)) != null;
        }
        catch (final IOException ex)
        {
            return false;
        }
    }

    public AeronTransport transport()
    {
        return transport;
    }

    /**
     * @return where replies from the server arrive.
     */
    public Subscription replies()
    {
        return replies;
    }

    /**
     * @return the channel to publish to the server on (its control stream, a session's request stream).
     */
    public String serverChannel()
    {
        return serverChannel;
    }

    /**
     * @return the channel the server publishes replies to, as this client names it.
     */
    public String replyChannel()
    {
        return replyChannel;
    }

    public int replyStreamId()
    {
        return replyStreamId;
    }

    /**
     * @return true when the link runs over shared memory rather than UDP.
     */
    public boolean isIpc()
    {
        return ipc;
    }

    public void close()
    {
        CloseHelper.quietCloseAll(replies, transport, processLock);
    }
}
