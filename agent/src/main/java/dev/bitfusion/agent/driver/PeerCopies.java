package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.CallSlot;
import dev.bitfusion.agent.wire.ServerSession;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.auth.PeerKeys;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Copies between two GPUs of this program that sit on different servers go from server to server: the client
 * only coordinates. It draws a stream id and a key for the copy, tells the destination's server to receive
 * ({@code PeerReceive}) and waits until it is ready, then tells the source's server to send ({@code PeerSend}) to
 * the destination as this process reaches it, and waits for both answers; the bytes never pass through here.
 * <p>
 * Servers that cannot reach each other (the sender's publication never connected) are remembered as a pair, said
 * once on stderr, and their copies go through this process from then on ({@link #UNREACHABLE}).
 * <p>
 * Thread safety: thread safe; each calling thread uses its own call slots of the two sessions.
 */
final class PeerCopies
{
    /** The answer when the two servers cannot reach each other: the caller copies through this process. */
    static final int UNREACHABLE = CUDA_ERROR_PEER_ACCESS_UNSUPPORTED;
    /** The default stream: the copy is ordered as the path through this process orders it. */
    private static final long STREAM = 0;

    private final Set<String> unreachablePairs = ConcurrentHashMap.newKeySet();
    private final Diagnostics diagnostics;

    PeerCopies(final Diagnostics diagnostics)
    {
        this.diagnostics = diagnostics;
    }

    /**
     * @return true when the two sessions are on different servers not known to be unable to reach each other.
     */
    boolean serverToServer(final ServerSession from, final ServerSession to)
    {
        return !from.endpoint().equals(to.endpoint()) && !unreachablePairs.contains(pair(from, to));
    }

    /**
     * @return CUDA_SUCCESS once the bytes are on the destination, {@link #UNREACHABLE} when the servers cannot
     * reach each other (nothing was written), else the error of whichever side failed.
     */
    int copy(final ServerSession from, final ServerSession to, final long dst, final long src, final long bytes)
    {
        final int peerStreamId = Protocol.newClientStreamId();
        final byte[] key = PeerKeys.newKey();
        // Data of an encrypted session stays encrypted on its way between the servers too.
        final boolean encrypt = from.isEncrypted() || to.isEncrypted();
        final CallSlot receive = to.slot();
        // Only once the destination subscribed is the source asked to send: its first setup frame then finds the
        // subscription, where a lost one would be sent again only 100 ms later.
        final int ready =
            to.awaitAcknowledgement(receive, to.proxy().peerReceive(receive, STREAM, dst, bytes, peerStreamId, encrypt, key));
        if (ready != CUDA_SUCCESS)
        {
            diagnostics.failed(receive.message());
            return ready;
        }
        final CallSlot send = from.slot();
        final int sent = from.await(send,
            from.proxy().peerSend(send, STREAM, src, bytes, peerStreamId, encrypt, key, to.endpoint().toString()));
        final String sendMessage = send.message();
        final int received = to.await(receive, CUDA_SUCCESS);
        if (sent == UNREACHABLE)
        {
            if (unreachablePairs.add(pair(from, to)))
            {
                System.err.println("bitfusion: GPU servers " + from.endpoint() + " and " + to.endpoint() + " cannot " +
                    "reach each other (" + sendMessage + "); copies between them go through this process");
            }
            return UNREACHABLE;
        }
        if (sent != CUDA_SUCCESS)
        {
            diagnostics.failed(sendMessage);
            return sent;
        }
        if (received != CUDA_SUCCESS)
        {
            diagnostics.failed(receive.message());
        }
        return received;
    }

    private static String pair(final ServerSession from, final ServerSession to)
    {
        return from.endpoint() + ">" + to.endpoint();
    }
}
