package dev.bitfusion.server;

import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.server.backend.emulated.EmulatedBackend;
import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.auth.FragmentAuthenticator;
import dev.bitfusion.transport.auth.PeerKeys;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import dev.bitfusion.transport.protocol.PeerChunkEncoder;
import io.aeron.ExclusivePublication;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.concurrent.locks.LockSupport;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_INVALID_VALUE;
import static dev.bitfusion.cuda.CuResult.CUDA_SUCCESS;
import static dev.bitfusion.server.IpcFixture.launchTransport;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The receiving end of a copy between servers over an embedded media driver's IPC stream, with the emulated GPU
 * behind it; the test publishes the chunks, as the sending server would, and forged ones besides.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PeerReceiverTest
{
    /** Room for a whole chunk in one fragment, as the sender sizes its chunks. */
    private static final String CHANNEL = "aeron:ipc?term-length=1m|mtu=8k";
    private static final int PEER_STREAM = 100_123;
    private static final int COPY_BYTES = 3000;

    private final EmulatedBackend backend = new EmulatedBackend(1, 64 << 20);
    private final CallResult callResult = new CallResult();
    private final byte[] key = PeerKeys.newKey();
    private AeronTransport transport;
    private BackendSession tenant;
    private PeerReceiver receiver;
    private long dst;

    @BeforeEach
    void open()
    {
        transport = launchTransport(TimeUnit.SECONDS.toNanos(2));
        tenant = backend.openSession(0, new Reservation(1, 0, 16 << 20, "test").budget());
        assertEquals(CUDA_SUCCESS, tenant.memAlloc(COPY_BYTES, callResult.reset()));
        dst = callResult.value1;
        receiver = new PeerReceiver(transport.aeron(), CHANNEL, TimeUnit.SECONDS.toNanos(2));
    }

    @AfterEach
    void close()
    {
        tenant.close();
        transport.close();
    }

    @Test
    void shouldDropForgedAndUntaggedFragmentsAndWriteOnlyTheSendersChunks() throws Exception
    {
        final byte[] data = pattern(COPY_BYTES, 7);
        final byte[] forged = pattern(COPY_BYTES, 99);
        final FragmentAuthenticator sender = PeerKeys.chunkAuthenticator(key, false);
        final FragmentAuthenticator stranger = PeerKeys.chunkAuthenticator(PeerKeys.newKey(), false);

        final int status = receiveWhile(false, publication ->
        {
            offer(publication, 0, forged, 0, COPY_BYTES, stranger);
            offer(publication, 0, forged, 0, COPY_BYTES, null);
            offer(publication, 0, data, 0, 1000, sender);
            offer(publication, 1000, data, 1000, COPY_BYTES - 1000, sender);
        });

        assertEquals(CUDA_SUCCESS, status, callResult.message);
        assertEquals(2, receiver.droppedFragments());
        assertArrayEquals(data, readBack());
    }

    @Test
    void shouldFailAChunkThatRunsPastTheCopyOrRepeatsOne() throws Exception
    {
        final byte[] data = pattern(COPY_BYTES + 100, 3);
        final FragmentAuthenticator sender = PeerKeys.chunkAuthenticator(key, false);

        final int pastTheEnd = receiveWhile(false, publication -> offer(publication, 0, data, 0, COPY_BYTES + 100, sender));
        assertEquals(CUDA_ERROR_INVALID_VALUE, pastTheEnd);
        assertTrue(callResult.message.contains("does not continue the copy"), callResult.message);

        final int repeated = receiveWhile(false, publication ->
        {
            offer(publication, 0, data, 0, 1000, sender);
            offer(publication, 0, data, 0, 1000, sender);
        });
        assertEquals(CUDA_ERROR_INVALID_VALUE, repeated);
        assertTrue(callResult.message.contains("at 0 does not continue the copy at 1000"), callResult.message);
    }

    @Test
    void shouldReceiveAnEncryptedCopy() throws Exception
    {
        final byte[] data = pattern(COPY_BYTES, 11);
        final FragmentAuthenticator sender = PeerKeys.chunkAuthenticator(key, true);

        final int status = receiveWhile(true, publication -> offer(publication, 0, data, 0, COPY_BYTES, sender));

        assertEquals(CUDA_SUCCESS, status, callResult.message);
        assertArrayEquals(data, readBack());
    }

    /**
     * Receive on the session's thread (this one) while a sender thread publishes once the receiver subscribed.
     */
    private int receiveWhile(final boolean encrypt, final Consumer<ExclusivePublication> publish) throws Exception
    {
        final ExclusivePublication publication = transport.aeron().addExclusivePublication(CHANNEL, PEER_STREAM);
        try (publication)
        {
            final CompletableFuture<Void> sent = CompletableFuture.runAsync(() ->
            {
                while (!publication.isConnected())
                {
                    LockSupport.parkNanos(100_000);
                }
                publish.accept(publication);
            });
            assertEquals(CUDA_SUCCESS, receiver.subscribe(COPY_BYTES, PEER_STREAM, callResult.reset()));
            final int status = receiver.receive(tenant, 0, dst, COPY_BYTES,
                PeerKeys.chunkAuthenticator(key, encrypt), callResult.reset());
            sent.get(10, TimeUnit.SECONDS);
            return status;
        }
    }

    private static void offer(
        final ExclusivePublication publication, final long byteOffset, final byte[] data, final int from,
        final int length, final FragmentAuthenticator authenticator)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64 * 1024]);
        final PeerChunkEncoder chunk = new PeerChunkEncoder().wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
            .byteOffset(byteOffset).putData(data, from, length);
        final int messageLength = MessageHeaderEncoder.ENCODED_LENGTH + chunk.encodedLength();
        while ((authenticator == null ? publication.offer(buffer, 0, messageLength) :
            publication.offer(buffer, 0, messageLength, authenticator)) < 0)
        {
            LockSupport.parkNanos(100_000);
        }
    }

    private byte[] readBack()
    {
        final byte[] copy = new byte[COPY_BYTES];
        tenant.copyDeviceToHost(0, dst, COPY_BYTES, 64 * 1024, (offset, hostMemory, length) ->
        {
            new UnsafeBuffer(hostMemory, length).getBytes(0, copy, (int)offset, length);
            return true;
        }, text -> { });
        return copy;
    }

    private static byte[] pattern(final int length, final int seed)
    {
        final byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(seed + i * 31);
        }
        return bytes;
    }
}
