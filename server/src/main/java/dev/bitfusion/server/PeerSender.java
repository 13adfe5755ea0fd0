package dev.bitfusion.server;

import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.TransportSettings;
import dev.bitfusion.transport.auth.FragmentAuthenticator;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import dev.bitfusion.transport.protocol.PeerChunkEncoder;
import io.aeron.Aeron;
import io.aeron.ChannelUriStringBuilder;
import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * The sending end of a copy between two servers ({@code PeerSend}): publishes a range of the tenant's memory as
 * {@code PeerChunk}s to the server the client named, on the stream the client chose, each fragment tagged (and,
 * when asked, encrypted) under the copy's key, so that server ({@link PeerReceiver}) writes them.
 * <p>
 * This is the one place a server sends to an address a message names, and it is bounded: an Aeron publication
 * sends data only once the address answered as a subscriber of that stream (status messages); until then only
 * setup frames go there, for at most {@link #CONNECT_TIMEOUT_NS}. And only a client that opened a session (with
 * the token, when the server has one) can ask for it, for memory of its own slice.
 * <p>
 * Thread safety: the session's thread only.
 */
final class PeerSender
{
    /** How long the receiving server has to subscribe; past it the servers are taken not to reach each other. */
    static final long CONNECT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(3);
    /** What the sender answers when the receiver never connected: the client then copies through itself. */
    static final int UNREACHABLE = CUDA_ERROR_PEER_ACCESS_UNSUPPORTED;

    /** Twice the flow-control window, so the window is what limits a copy in flight. */
    static final int PEER_TERM_LENGTH = 2 * TransportSettings.INITIAL_WINDOW_LENGTH;
    private static final int HEAD_LENGTH = MessageHeaderEncoder.ENCODED_LENGTH + PeerChunkEncoder.BLOCK_LENGTH +
        PeerChunkEncoder.dataHeaderLength();

    private final Aeron aeron;
    private final TransportSettings settings;
    private final long livenessTimeoutNs;
    private final IdleStrategy idleStrategy = ClientSession.idleStrategy();
    private final UnsafeBuffer head = new UnsafeBuffer(new byte[HEAD_LENGTH]);
    private final UnsafeBuffer body = new UnsafeBuffer(0, 0);
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final PeerChunkEncoder chunk = new PeerChunkEncoder();
    private final BackendSession.DeviceDataSink sink = this::onDeviceData;

    private ExclusivePublication publication;
    private FragmentAuthenticator authenticator;
    private String failureMessage;

    PeerSender(final Aeron aeron, final TransportSettings settings, final long livenessTimeoutNs)
    {
        this.aeron = aeron;
        this.settings = settings;
        this.livenessTimeoutNs = livenessTimeoutNs;
    }

    /**
     * Send one copy, blocking the calling session's thread until every chunk is published or the copy failed.
     *
     * @param peerEndpoint  HOST:PORT of the receiving server, as the client reaches it.
     * @param authenticator the copy's chunk authenticator ({@code PeerKeys.chunkAuthenticator}).
     * @param printfSink    where device printf the source's synchronisation brings out goes.
     * @param result        where the reason goes when the copy fails.
     * @return CUDA_SUCCESS once all is sent; {@link #UNREACHABLE} when the receiver never connected; else the error.
     */
    int send(
        final BackendSession backend, final long streamHandle, final long srcDeviceAddress, final long bytes,
        final int peerStreamId, final String peerEndpoint, final FragmentAuthenticator authenticator,
        final Consumer<String> printfSink, final CallResult result)
    {
        final Endpoint endpoint;
        try
        {
            endpoint = Endpoint.parse(peerEndpoint);
        }
        catch (final IllegalArgumentException ex)
        {
            result.message = "peer copy: '" + peerEndpoint + "' is not HOST:PORT: " + ex.getMessage();
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (bytes <= 0)
        {
            result.message = "a peer copy needs a positive byte count, got " + bytes;
            return CUDA_ERROR_INVALID_VALUE;
        }
        this.authenticator = authenticator;
        failureMessage = null;
        try (ExclusivePublication publication =
            aeron.addExclusivePublication(channel(endpoint), peerStreamId))
        {
            this.publication = publication;
            final long deadlineNs = System.nanoTime() + CONNECT_TIMEOUT_NS;
            idleStrategy.reset();
            while (!publication.isConnected())
            {
                if (System.nanoTime() - deadlineNs > 0)
                {
                    result.message = "peer copy: the server at " + endpoint + " did not subscribe within " +
                        TimeUnit.NANOSECONDS.toMillis(CONNECT_TIMEOUT_NS) + " ms: the servers cannot reach each other";
                    return UNREACHABLE;
                }
                idleStrategy.idle();
            }
            final int status = backend.copyDeviceToHost(streamHandle, srcDeviceAddress, bytes,
                publication.maxPayloadLength() - HEAD_LENGTH, sink, printfSink);
            if (failureMessage != null)
            {
                result.message = "peer copy of " + bytes + " bytes to " + endpoint + " failed: " + failureMessage;
                return status != CUDA_SUCCESS ? status : CUDA_ERROR_UNKNOWN;
            }
            return status;
        }
        finally
        {
            this.publication = null;
            this.authenticator = null;
        }
    }

    /**
     * A publication made for one copy, and the image its receiver makes of it: terms of the flow-control window's
     * size, sparse, so that making them costs little (the sessions' 16 MiB terms, allocated twice per copy, would
     * cost more than the copy).
     */
    private String channel(final Endpoint endpoint)
    {
        return new ChannelUriStringBuilder()
            .media("udp")
            .endpoint(endpoint.toString())
            .mtu(settings.udpMtuFor(endpoint.host()))
            .termLength(PEER_TERM_LENGTH)
            .sparse(true)
            .build();
    }

    /**
     * Each piece the backend reads goes out as one chunk, one fragment (the piece is sized for it), tagged where
     * it lies in the publication's term; back pressure is waited out for at most the liveness timeout.
     */
    private boolean onDeviceData(final long offset, final long hostMemory, final int length)
    {
        chunk.wrapAndApplyHeader(head, 0, headerEncoder).byteOffset(offset);
        head.putInt(HEAD_LENGTH - PeerChunkEncoder.dataHeaderLength(), length, ByteOrder.LITTLE_ENDIAN);
        body.wrap(hostMemory, length);
        final long refusedAtNs = System.nanoTime();
        idleStrategy.reset();
        while (true)
        {
            final long position = publication.offer(head, 0, HEAD_LENGTH, body, 0, length, authenticator);
            if (position > 0)
            {
                return true;
            }
            if (position == Publication.CLOSED || position == Publication.MAX_POSITION_EXCEEDED ||
                position == Publication.NOT_CONNECTED)
            {
                failureMessage = "the receiving server went away after " + offset + " bytes";
                return false;
            }
            if (System.nanoTime() - refusedAtNs > livenessTimeoutNs)
            {
                failureMessage = "the receiving server took nothing for " +
                    TimeUnit.NANOSECONDS.toMillis(livenessTimeoutNs) + " ms";
                return false;
            }
            idleStrategy.idle();
        }
    }
}
