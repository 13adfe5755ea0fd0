package dev.bitfusion.transport.auth;

import io.aeron.ReservedValueSupplier;
import io.aeron.logbuffer.Header;
import io.aeron.protocol.DataHeaderFlyweight;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * Tags and checks each fragment of an authenticated stream, and encrypts its payload when the session asked for
 * that: the tag is SipHash-2-4 under the session's key of the fragment's position (term id and term offset) and
 * its payload, carried in the 8-byte reserved value of the Aeron frame header, so messages keep their format and
 * bulk data is tagged where it lies, without a copy.
 * <p>
 * Only the two ends of the key exchange hold the key, so a fragment injected by anyone else fails; the position is
 * part of the tag, and Aeron delivers each position of a stream once, so a fragment replayed at another position
 * fails too.
 * <p>
 * With a cipher key the payload is first encrypted in place with ChaCha20 and the tag covers the ciphertext
 * (encrypt-then-MAC, so a tampered fragment is refused before anything decrypts it). The nonce is the fragment's
 * term offset, term id and Aeron session id: each key serves one publication (one direction of one session), where
 * no two fragments share a term offset and term id, so no nonce repeats under a key.
 * <p>
 * Thread safety: immutable; the supplier may be called by any number of offering threads at once.
 */
public final class FragmentAuthenticator implements ReservedValueSupplier
{
    /** The most payload a fragment carries: Aeron's MTU is at most 64 KiB, header included. */
    public static final int MAX_FRAGMENT_PAYLOAD = 64 * 1024;

    private final long k0;
    private final long k1;
    private final ChaCha20 cipher;

    /**
     * @param k0     the first half of the 128-bit tag key.
     * @param k1     the second half.
     * @param cipher what encrypts payloads, or null to send them as they are.
     */
    public FragmentAuthenticator(final long k0, final long k1, final ChaCha20 cipher)
    {
        this.k0 = k0;
        this.k1 = k1;
        this.cipher = cipher;
    }

    /**
     * @param key at least 16 bytes of key; the first 16 are used.
     * @return an authenticator under that key, which tags payloads without encrypting them.
     */
    public static FragmentAuthenticator of(final byte[] key)
    {
        return of(key, null);
    }

    /**
     * @param tagKey    at least 16 bytes of key for the tags; the first 16 are used.
     * @param cipherKey 32 bytes of ChaCha20 key, or null to send payloads as they are.
     * @return an authenticator under those keys.
     */
    public static FragmentAuthenticator of(final byte[] tagKey, final byte[] cipherKey)
    {
        if (tagKey.length < 16)
        {
            throw new IllegalArgumentException("a fragment key needs 16 bytes, got " + tagKey.length);
        }
        final UnsafeBuffer view = new UnsafeBuffer(tagKey);
        return new FragmentAuthenticator(view.getLong(0, ByteOrder.LITTLE_ENDIAN), view.getLong(8, ByteOrder.LITTLE_ENDIAN),
            cipherKey != null ? new ChaCha20(cipherKey) : null);
    }

    /**
     * @return whether payloads are encrypted: a receiver must then {@link #decrypt} each fragment it verified.
     */
    public boolean encrypts()
    {
        return cipher != null;
    }

    /**
     * The tag of a frame being published, called by the publication once for each fragment, once the frame's
     * header and payload are in the term and before the frame is committed: the payload is encrypted there, in
     * place, before a receiver can see it.
     */
    public long get(final DirectBuffer termBuffer, final int termOffset, final int frameLength)
    {
        // Publications hand over their term buffer, which is mutable: Aeron's ReservedValueSupplier only types it
        // as a DirectBuffer.
        return seal((MutableDirectBuffer)termBuffer, termOffset, frameLength);
    }

    /**
     * Encrypt (when this authenticator does) and tag a frame whose header is written and whose payload is in place
     * but which is not committed yet: what {@link #get} does for an offer, for a frame taken with tryClaim.
     *
     * @param frame       the buffer holding the frame, header first.
     * @param frameOffset where the frame's header starts.
     * @param frameLength the header's and the payload's length.
     * @return the tag, to go in the frame's reserved value.
     */
    public long seal(final MutableDirectBuffer frame, final int frameOffset, final int frameLength)
    {
        final int termId = frame.getInt(frameOffset + DataHeaderFlyweight.TERM_ID_FIELD_OFFSET, ByteOrder.LITTLE_ENDIAN);
        final int termOffset =
            frame.getInt(frameOffset + DataHeaderFlyweight.TERM_OFFSET_FIELD_OFFSET, ByteOrder.LITTLE_ENDIAN);
        final int payloadOffset = frameOffset + DataHeaderFlyweight.HEADER_LENGTH;
        final int payloadLength = frameLength - DataHeaderFlyweight.HEADER_LENGTH;
        if (cipher != null)
        {
            final int sessionId =
                frame.getInt(frameOffset + DataHeaderFlyweight.SESSION_ID_FIELD_OFFSET, ByteOrder.LITTLE_ENDIAN);
            cipher.xor(0, termOffset, termId, sessionId, frame, payloadOffset, frame, payloadOffset, payloadLength);
        }
        return tag(termId, termOffset, frame, payloadOffset, payloadLength);
    }

    /**
     * @param buffer the fragment's payload as a subscription delivers it.
     * @param header its frame header.
     * @return true when the fragment carries the tag of its position and payload under this key.
     */
    public boolean verify(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        return header.reservedValue() == tag(header.termId(), header.termOffset(), buffer, offset, length);
    }

    /**
     * Decrypt a verified fragment's payload into a buffer of the receiver's own: the subscription's log buffer
     * is the publication's and is never written by a receiver.
     *
     * @param dst       where the plaintext goes, {@code length} bytes from {@code dstOffset}.
     */
    public void decrypt(
        final DirectBuffer buffer,
        final int offset,
        final int length,
        final Header header,
        final MutableDirectBuffer dst,
        final int dstOffset)
    {
        cipher.xor(0, header.termOffset(), header.termId(), header.sessionId(), buffer, offset, dst, dstOffset, length);
    }

    /**
     * A word of key stream under this authenticator's tag key, for values that travel inside the stream it tags
     * and that only its two ends may read ({@link PeerKeys#mask}). The input is a 64-bit word and one byte of
     * domain: no fragment payload is one byte long (every message has an 8-byte header), so no tag that travels
     * on the wire is ever one of these words.
     *
     * @param input  a value used once per stream (a correlation id).
     * @param domain which word of key stream for that input.
     * @return SipHash-2-4 of {@code input} and {@code domain} under the tag key.
     */
    public long keyStreamWord(final long input, final int domain)
    {
        final UnsafeBuffer domainByte = new UnsafeBuffer(new byte[]{ (byte)domain });
        return SipHash.hashWithPrefix(k0, k1, input, domainByte, 0, 1);
    }

    private long tag(
        final int termId, final int termOffset, final DirectBuffer buffer, final int offset, final int length)
    {
        final long position = ((long)termId << 32) | (termOffset & 0xffff_ffffL);
        return SipHash.hashWithPrefix(k0, k1, position, buffer, offset, length);
    }
}
