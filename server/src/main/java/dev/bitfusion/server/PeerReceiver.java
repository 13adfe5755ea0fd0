package dev.bitfusion.server;

import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.transport.auth.FragmentAuthenticator;
import dev.bitfusion.transport.protocol.MessageHeaderDecoder;
import dev.bitfusion.transport.protocol.PeerChunkDecoder;
import io.aeron.Aeron;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.FrameDescriptor;
import io.aeron.logbuffer.Header;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.concurrent.TimeUnit;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * The receiving end of a copy between two servers ({@code PeerReceive}): subscribes on the server's own UDP
 * channel to the stream the client chose for the copy and writes the {@code PeerChunk}s another server publishes
 * there ({@link PeerSender}) into the tenant's memory, through the backend, which checks the tenant's ranges.
 * <p>
 * Anyone may publish on a stream of the server's channel, so every fragment must carry the tag of the copy's key;
 * one that does not is dropped and counted, never written. A tagged chunk comes from the server the client told to
 * send, so one that does not continue the copy where the last ended (a duplicate, a gap) or runs past its end ends
 * the receive. The session's thread waits here, as it does for a synchronous copy; the wait is bounded: by
 * {@link #FIRST_CHUNK_TIMEOUT_NS} for the sender to start, by the liveness timeout between chunks, and at once
 * when the sender's publication goes away before the last byte.
 * <p>
 * Thread safety: the session's thread only.
 */
final class PeerReceiver implements FragmentHandler
{
    /**
     * How long the first chunk may take: the sender waits up to {@link PeerSender#CONNECT_TIMEOUT_NS} for this
     * subscription before it gives up, and the client's two requests travel to two servers.
     */
    static final long FIRST_CHUNK_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);
    private static final int FRAGMENT_LIMIT = 16;

    private final Aeron aeron;
    private final String udpChannel;
    private final long livenessTimeoutNs;
    private final IdleStrategy idleStrategy = ClientSession.idleStrategy();
    private final MessageHeaderDecoder header = new MessageHeaderDecoder();
    private final PeerChunkDecoder chunk = new PeerChunkDecoder();
    private final UnsafeBuffer data = new UnsafeBuffer(0, 0);
    private final UnsafeBuffer plaintext = new UnsafeBuffer(new byte[FragmentAuthenticator.MAX_FRAGMENT_PAYLOAD]);

    private Subscription subscription;
    private BackendSession backend;
    private FragmentAuthenticator authenticator;
    private long streamHandle;
    private long dstDeviceAddress;
    private long bytes;
    private long receivedBytes;
    private int senderSessionId;
    private boolean senderSeen;
    private long droppedFragments;
    private int failure;
    private String failureMessage;

    /**
     * @param udpChannel the server's own UDP channel, where its request streams arrive.
     */
    PeerReceiver(final Aeron aeron, final String udpChannel, final long livenessTimeoutNs)
    {
        this.aeron = aeron;
        this.udpChannel = udpChannel;
        this.livenessTimeoutNs = livenessTimeoutNs;
    }

    /**
     * Subscribe to the copy's stream: the session then tells its client, which only then asks the sender to send,
     * so the sender's first setup frame finds the subscription (a lost one is sent again only 100 ms later).
     *
     * @param result where the reason goes when the copy cannot be received.
     * @return CUDA_SUCCESS once subscribed, else the error (and nothing to {@link #receive}).
     */
    int subscribe(final long bytes, final int peerStreamId, final CallResult result)
    {
        if (bytes <= 0)
        {
            result.message = "a peer copy needs a positive byte count, got " + bytes;
            return CUDA_ERROR_INVALID_VALUE;
        }
        subscription = aeron.addSubscription(udpChannel, peerStreamId);
        return CUDA_SUCCESS;
    }

    /**
     * Receive the copy {@link #subscribe} prepared, blocking the calling session's thread until it is complete or
     * failed; the subscription is closed then.
     *
     * @param authenticator the copy's chunk authenticator ({@code PeerKeys.chunkAuthenticator}).
     * @param result        where the reason goes when the copy fails.
     * @return CUDA_SUCCESS once every byte is written, else the error.
     */
    int receive(
        final BackendSession backend, final long streamHandle, final long dstDeviceAddress, final long bytes,
        final FragmentAuthenticator authenticator, final CallResult result)
    {
        this.backend = backend;
        this.authenticator = authenticator;
        this.streamHandle = streamHandle;
        this.dstDeviceAddress = dstDeviceAddress;
        this.bytes = bytes;
        receivedBytes = 0;
        senderSeen = false;
        droppedFragments = 0;
        failure = CUDA_SUCCESS;
        failureMessage = null;
        try (Subscription subscription = this.subscription)
        {
            final long startNs = System.nanoTime();
            long lastProgressNs = startNs;
            idleStrategy.reset();
            while (receivedBytes < bytes && failure == CUDA_SUCCESS)
            {
                final long before = receivedBytes;
                subscription.poll(this, FRAGMENT_LIMIT);
                final long nowNs = System.nanoTime();
                if (receivedBytes > before)
                {
                    lastProgressNs = nowNs;
                    idleStrategy.reset();
                    continue;
                }
                if (!senderSeen && nowNs - startNs > FIRST_CHUNK_TIMEOUT_NS)
                {
                    fail(CUDA_ERROR_TIMEOUT, "no chunk came from the sending server within " +
                        TimeUnit.NANOSECONDS.toMillis(FIRST_CHUNK_TIMEOUT_NS) + " ms");
                }
                else if (senderSeen && nowNs - lastProgressNs > livenessTimeoutNs)
                {
                    fail(CUDA_ERROR_TIMEOUT, "the sending server sent nothing for " +
                        TimeUnit.NANOSECONDS.toMillis(livenessTimeoutNs) + " ms after " + receivedBytes + " bytes");
                }
                else if (senderSeen && subscription.imageBySessionId(senderSessionId) == null)
                {
                    fail(CUDA_ERROR_UNKNOWN, "the sending server stopped after " + receivedBytes + " of " + bytes +
                        " bytes");
                }
                idleStrategy.idle();
            }
        }
        finally
        {
            this.subscription = null;
            this.backend = null;
            this.authenticator = null;
        }
        if (failure != CUDA_SUCCESS)
        {
            result.message = "peer copy of " + bytes + " bytes failed: " + failureMessage +
                (droppedFragments > 0 ? "; dropped " + droppedFragments + " fragments that failed authentication" : "");
        }
        return failure;
    }

    /**
     * Close the subscription {@link #subscribe} made, for a copy that will not be received (the session is closing).
     */
    void abandon()
    {
        CloseHelper.quietClose(subscription);
        subscription = null;
    }

    /**
     * @return fragments of the last receive dropped because their tag was wrong or missing.
     */
    long droppedFragments()
    {
        return droppedFragments;
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        // A chunk is one fragment by construction, so a tag checks all of it; anything else was not sent by a peer.
        if (failure != CUDA_SUCCESS || (header.flags() & FrameDescriptor.UNFRAGMENTED) != FrameDescriptor.UNFRAGMENTED ||
            !authenticator.verify(buffer, offset, length, header))
        {
            droppedFragments++;
            return;
        }
        if (!senderSeen)
        {
            senderSeen = true;
            senderSessionId = header.sessionId();
        }
        else if (header.sessionId() != senderSessionId)
        {
            // Tagged under the copy's key, yet from a second publication: only the sender holds the key.
            fail(CUDA_ERROR_INVALID_VALUE, "chunks came from two publications");
            return;
        }
        DirectBuffer message = buffer;
        int messageOffset = offset;
        if (authenticator.encrypts())
        {
            authenticator.decrypt(buffer, offset, length, header, plaintext, 0);
            message = plaintext;
            messageOffset = 0;
        }
        onChunk(message, messageOffset, length);
    }

    private void onChunk(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < MessageHeaderDecoder.ENCODED_LENGTH + PeerChunkDecoder.BLOCK_LENGTH +
            PeerChunkDecoder.dataHeaderLength())
        {
            fail(CUDA_ERROR_INVALID_VALUE, "a chunk of " + length + " bytes is too short");
            return;
        }
        header.wrap(buffer, offset);
        if (header.templateId() != PeerChunkDecoder.TEMPLATE_ID || header.schemaId() != PeerChunkDecoder.SCHEMA_ID)
        {
            fail(CUDA_ERROR_INVALID_VALUE, "a fragment of template " + header.templateId() + " is not a chunk");
            return;
        }
        chunk.wrap(buffer, offset + MessageHeaderDecoder.ENCODED_LENGTH, header.blockLength(), header.version());
        final long byteOffset = chunk.byteOffset();
        final long dataLength = chunk.dataLength() & 0xffff_ffffL;
        final int dataOffset = offset + MessageHeaderDecoder.ENCODED_LENGTH + header.blockLength() +
            PeerChunkDecoder.dataHeaderLength();
        if (dataOffset + dataLength > offset + length)
        {
            fail(CUDA_ERROR_INVALID_VALUE, "a chunk's data runs past its end");
            return;
        }
        if (byteOffset != receivedBytes || dataLength == 0 || byteOffset + dataLength > bytes)
        {
            fail(CUDA_ERROR_INVALID_VALUE, "a chunk of " + dataLength + " bytes at " + byteOffset +
                " does not continue the copy at " + receivedBytes + " of " + bytes);
            return;
        }
        data.wrap(buffer, dataOffset, (int)dataLength);
        final int status = backend.copyHostToDevice(streamHandle, dstDeviceAddress + byteOffset, data, 0, (int)dataLength);
        if (status != CUDA_SUCCESS)
        {
            fail(status, "writing " + dataLength + " bytes at 0x" + Long.toHexString(dstDeviceAddress + byteOffset) +
                ": " + describe(status));
            return;
        }
        receivedBytes += dataLength;
    }

    private void fail(final int status, final String message)
    {
        if (failure == CUDA_SUCCESS)
        {
            failure = status;
            failureMessage = message;
        }
    }
}
