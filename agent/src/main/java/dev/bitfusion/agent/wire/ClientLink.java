package dev.bitfusion.agent.wire;

import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.OwnerLock;
import dev.bitfusion.transport.TransportSettings;
import io.aeron.ConcurrentPublication;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import org.agrona.CloseHelper;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The Aeron plumbing from this process to one server: a transport (the server's own media driver over shared memory
 * when it runs on this host, else an embedded one speaking UDP) and the channels of its requests and replies.
 * <p>
 * Every request publication is paired with a reply subscription: over UDP the publication names the subscription
 * (an Aeron response channel), and the server answers on the path the client opened, to the address it sees, so
 * the client needs no inbound port and replies cross NAT; over IPC the server answers on the stream the request
 * named. Aeron pairs one response publication with one reply subscription, so each exchange (a control query, a
 * session) has a subscription of its own.
 * <p>
 * Over IPC each reply subscription comes with a lock file held for the process's life
 * ({@link OwnerLock#ipcClientFile}, named by the reply stream): the server's driver notices a dead IPC client only
 * after its client liveness timeout, which also bounds the pauses the server itself survives; the lock tells the
 * server's session at once that its client's process is gone.
 * <p>
 * Thread safety: channels are added from one thread at a time; {@link #close()} once, from one thread.
 */
public final class ClientLink implements AutoCloseable
{
    private final AeronTransport transport;
    private final Endpoint server;
    private final boolean ipc;
    private final String ipcChannel;
    private final List<OwnerLock> processLocks = new ArrayList<>();

    private ClientLink(final AeronTransport transport, final Endpoint server, final boolean ipc)
    {
        this.transport = transport;
        this.server = server;
        this.ipc = ipc;
        this.ipcChannel = ipc ? ChannelUris.ipc(transport.settings()) : null;
    }

    /**
     * @param server    the server.
     * @param transport "auto" (shared memory when the server's media driver runs on this host), "udp" or "ipc".
     * @param purpose   a word naming the embedded media driver's directory (session, query, health).
     * @return a link over a connected transport.
     */
    public static ClientLink towards(final Endpoint server, final String transport, final String purpose)
    {
        final String serverDirectory = TransportSettings.defaultAeronDirectory("server-" + server.port());
        final boolean serverIsLocal = Endpoint.isLoopback(server.host()) || isLocalAddress(server.host());
        if (transport.equals("ipc"))
        {
            return ipc(server, serverDirectory);
        }
        if (transport.equals("auto") && serverIsLocal && AeronTransport.isDriverActive(serverDirectory))
        {
            try
            {
                return ipc(server, serverDirectory);
            }
            catch (final RuntimeException ex)
            {
                // The server's driver stopped or restarted between the look and the connect: UDP still reaches it.
                System.err.println("bitfusion: shared memory with the server at " + server + " failed (" +
                    ex.getMessage() + "); using UDP");
            }
        }
        final TransportSettings settings = new TransportSettings().aeronDirectoryName(
            TransportSettings.defaultAeronDirectory(purpose + "-" + ProcessHandle.current().pid() + "-" +
            Long.toHexString(ThreadLocalRandom.current().nextLong())));
        return new ClientLink(AeronTransport.launchEmbedded(settings), server, false);
    }

    private static ClientLink ipc(final Endpoint server, final String serverDirectory)
    {
        return new ClientLink(
            AeronTransport.connect(new TransportSettings().aeronDirectoryName(serverDirectory)), server, true);
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
     * @param streamId the stream replies arrive on; one no other exchange of this process uses.
     * @return a subscription for the replies to one request publication.
     */
    public Subscription addReplySubscription(final int streamId)
    {
        if (ipc)
        {
            holdProcessLock(streamId);
        }
        return transport.aeron().addSubscription(ipc ? ipcChannel : ChannelUris.udpReplies(server), streamId);
    }

    /**
     * @param streamId the stream requests go on.
     * @param replies  where the server's answers to them arrive.
     * @return a publication many threads may offer on: a session's requests.
     */
    public ConcurrentPublication addRequestPublication(final int streamId, final Subscription replies)
    {
        return transport.aeron().addPublication(requestChannel(replies), streamId);
    }

    /**
     * @return a publication one thread offers on: a control exchange.
     */
    public ExclusivePublication addExclusiveRequestPublication(final int streamId, final Subscription replies)
    {
        return transport.aeron().addExclusivePublication(requestChannel(replies), streamId);
    }

    /**
     * Without a lock (none can be made, or the file is taken) the server relies on its driver alone.
     */
    private void holdProcessLock(final int replyStreamId)
    {
        try
        {
            final OwnerLock lock = OwnerLock.acquire(
                OwnerLock.ipcClientFile(transport.settings().aeronDirectoryName(), replyStreamId));
            if (lock != null)
            {
                processLocks.add(lock);
            }
        }
        catch (final IOException ignored)
        {
            // Best effort, as said above.
        }
    }

    private String requestChannel(final Subscription replies)
    {
        return ipc ? ipcChannel : ChannelUris.udpRequests(server, transport.settings(), replies.registrationId());
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
        CloseHelper.quietClose(transport);
        CloseHelper.quietCloseAll(processLocks);
    }
}
