package dev.bitfusion.transport.auth;

import io.aeron.logbuffer.Header;
import io.aeron.protocol.DataHeaderFlyweight;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static io.aeron.protocol.DataHeaderFlyweight.HEADER_LENGTH;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Frames are laid out in a term buffer as a publication lays them out, sealed as its offer seals them (the supplier
 * called with the frame's header and payload in place), and read back as a subscription's {@link Header} shows them.
 */
class FragmentAuthenticatorTest
{
    private static final int TERM_ID = 0x1234_5678;
    private static final int SESSION_ID = -99;
    private static final int STREAM_ID = 100_001;

    private final Random random = new Random(11);
    private final byte[] tagKey = bytes(16);
    private final byte[] cipherKey = bytes(32);
    private final FragmentAuthenticator encrypting = FragmentAuthenticator.of(tagKey, cipherKey);
    private final UnsafeBuffer term = new UnsafeBuffer(new byte[64 * 1024]);
    private final UnsafeBuffer plaintext = new UnsafeBuffer(new byte[FragmentAuthenticator.MAX_FRAGMENT_PAYLOAD]);

    @Test
    void aSealedFragmentVerifiesAndDecryptsToWhatWasSent()
    {
        for (final int length : new int[]{ 0, 1, 63, 64, 65, 1376, 8000 })
        {
            final byte[] payload = bytes(length);
            final int frameOffset = 4096;
            final Header header = seal(encrypting, frameOffset, payload);

            assertTrue(encrypting.verify(term, frameOffset + HEADER_LENGTH, length, header), "length " + length);
            encrypting.decrypt(term, frameOffset + HEADER_LENGTH, length, header, plaintext, 0);
            assertArrayEquals(payload, Arrays.copyOf(plaintext.byteArray(), length), "length " + length);
        }
    }

    @Test
    void whatTravelsIsNotThePlaintext()
    {
        final byte[] payload = new byte[256];
        Arrays.fill(payload, (byte)0x5a);
        seal(encrypting, 0, payload);
        final byte[] travelled = new byte[payload.length];
        term.getBytes(HEADER_LENGTH, travelled);
        int same = 0;
        for (int i = 0; i < payload.length; i++)
        {
            same += travelled[i] == payload[i] ? 1 : 0;
        }
        assertTrue(same < 16, same + " of 256 bytes travelled as they were");
    }

    @Test
    void aTamperedCiphertextFailsItsTag()
    {
        final byte[] payload = bytes(300);
        final Header header = seal(encrypting, 0, payload);
        for (final int index : new int[]{ 0, 150, 299 })
        {
            final int at = HEADER_LENGTH + index;
            term.putByte(at, (byte)(term.getByte(at) ^ 1));
            assertFalse(encrypting.verify(term, HEADER_LENGTH, payload.length, header), "byte " + index);
            term.putByte(at, (byte)(term.getByte(at) ^ 1));
        }
        assertTrue(encrypting.verify(term, HEADER_LENGTH, payload.length, header));
    }

    @Test
    void theSamePlaintextAtAnotherPositionEncryptsOtherwise()
    {
        final byte[] payload = bytes(128);
        seal(encrypting, 0, payload);
        seal(encrypting, 1024, payload);
        final byte[] first = new byte[128];
        final byte[] second = new byte[128];
        term.getBytes(HEADER_LENGTH, first);
        term.getBytes(1024 + HEADER_LENGTH, second);
        assertFalse(Arrays.equals(first, second), "a nonce repeated");
    }

    @Test
    void anotherKeyNeitherVerifiesNorDecrypts()
    {
        final byte[] payload = bytes(200);
        final Header header = seal(encrypting, 0, payload);
        final FragmentAuthenticator other = FragmentAuthenticator.of(bytes(16), bytes(32));
        assertFalse(other.verify(term, HEADER_LENGTH, payload.length, header));
    }

    @Test
    void aClaimedFrameIsSealedAsAnOfferedOne()
    {
        final byte[] payload = bytes(500);
        final int frameOffset = 2048;
        final long offered = seal(encrypting, frameOffset, payload).reservedValue();
        final byte[] ciphertext = new byte[payload.length];
        term.getBytes(frameOffset + HEADER_LENGTH, ciphertext);

        writeFrame(frameOffset, payload);
        // A claim's buffer is a view that starts at the frame's header.
        final UnsafeBuffer claim = new UnsafeBuffer(term, frameOffset, HEADER_LENGTH + payload.length);
        assertEquals(offered, encrypting.seal(claim, 0, HEADER_LENGTH + payload.length));
        final byte[] claimed = new byte[payload.length];
        term.getBytes(frameOffset + HEADER_LENGTH, claimed);
        assertArrayEquals(ciphertext, claimed);
    }

    @Test
    void withoutACipherKeyThePayloadTravelsAsItIsAndIsStillTagged()
    {
        final FragmentAuthenticator tagging = FragmentAuthenticator.of(tagKey);
        final byte[] payload = bytes(100);
        final Header header = seal(tagging, 0, payload);
        final byte[] travelled = new byte[payload.length];
        term.getBytes(HEADER_LENGTH, travelled);
        assertArrayEquals(payload, travelled);
        assertTrue(tagging.verify(term, HEADER_LENGTH, payload.length, header));
        assertFalse(tagging.encrypts());
        assertNotEquals(header.reservedValue(), seal(encrypting, 0, payload).reservedValue());
    }

    @Test
    void eachDirectionOfASessionHasKeysOfItsOwn()
    {
        final Credentials token = Credentials.ofToken("t0ken");
        final byte[] secret = bytes(32);
        final Credentials.Transcript accept =
            Handshakes.sessionAccept(new Credentials.Transcript("session-open"), 7, bytes(44));
        final FragmentAuthenticator requests = Handshakes.requestAuthenticator(token, secret, accept, true);
        final FragmentAuthenticator replies = Handshakes.replyAuthenticator(token, secret, accept);
        final byte[] payload = bytes(100);
        final Header header = seal(requests, 0, payload);

        assertFalse(replies.verify(term, HEADER_LENGTH, payload.length, header));
        assertTrue(Handshakes.requestAuthenticator(token, secret, accept, true)
            .verify(term, HEADER_LENGTH, payload.length, header), "the other end derives the same key");
        assertTrue(Handshakes.requestAuthenticator(token, secret, accept, false)
            .verify(term, HEADER_LENGTH, payload.length, header), "the request tag key is the one without encryption");
        assertFalse(Handshakes.requestAuthenticator(Credentials.ofToken("other"), secret, accept, true)
            .verify(term, HEADER_LENGTH, payload.length, header), "another token gives another key");
    }

    /**
     * Write a frame as an offer does, seal it through the supplier, store the tag where the publication does.
     *
     * @return the frame's header as a subscription sees it.
     */
    private Header seal(final FragmentAuthenticator authenticator, final int frameOffset, final byte[] payload)
    {
        writeFrame(frameOffset, payload);
        final int frameLength = HEADER_LENGTH + payload.length;
        final long tag = authenticator.get(term, frameOffset, frameLength);
        term.putLong(frameOffset + DataHeaderFlyweight.RESERVED_VALUE_OFFSET, tag, ByteOrder.LITTLE_ENDIAN);
        final Header header = new Header(TERM_ID, 16);
        header.buffer(term);
        header.offset(frameOffset);
        return header;
    }

    private void writeFrame(final int frameOffset, final byte[] payload)
    {
        final DataHeaderFlyweight frame = new DataHeaderFlyweight();
        frame.wrap(term, frameOffset, HEADER_LENGTH);
        frame.frameLength(HEADER_LENGTH + payload.length);
        frame.termOffset(frameOffset);
        frame.sessionId(SESSION_ID);
        frame.streamId(STREAM_ID);
        frame.termId(TERM_ID);
        term.putBytes(frameOffset + HEADER_LENGTH, payload);
    }

    private byte[] bytes(final int length)
    {
        final byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }
}
