package dev.bitfusion.transport.auth;

import io.aeron.ReservedValueSupplier;
import io.aeron.logbuffer.Header;
import io.aeron.protocol.DataHeaderFlyweight;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * Tags and checks each fragment of an authenticated stream: the tag is SipHash-2-4 under the session's request key
 * of the fragment's position (term id and term offset) and its payload, carried in the 8-byte reserved value of
 * the Aeron frame header, so messages keep their format and bulk data is tagged where it lies, without a copy.
 * <p>
 * Only the two ends of the key exchange hold the key, so a fragment injected by anyone else fails; the position is
 * part of the tag, and Aeron delivers each position of a stream once, so a fragment replayed at another position
 * fails too.
 * <p>
 * Thread safety: immutable; the supplier may be called by any number of offering threads at once.
 */
public final class FragmentAuthenticator implements ReservedValueSupplier
{
    private final long k0;
    private final long k1;

    /**
     * @param k0 the first half of the 128-bit key.
     * @param k1 the second half.
     */
    public FragmentAuthenticator(final long k0, final long k1)
    {
        this.k0 = k0;
        this.k1 = k1;
    }

    /**
     * @param key at least 16 bytes of key; the first 16 are used.
     * @return an authenticator under that key.
     */
    public static FragmentAuthenticator of(final byte[] key)
    {
        if (key.length < 16)
        {
            throw new IllegalArgumentException("a fragment key needs 16 bytes, got " + key.length);
        }
        final UnsafeBuffer view = new UnsafeBuffer(key);
        return new FragmentAuthenticator(view.getLong(0, ByteOrder.LITTLE_ENDIAN), view.getLong(8, ByteOrder.LITTLE_ENDIAN));
    }

    /**
     * The tag of a frame being published, called by the publication once the frame's header and payload are in
     * the term and before the frame is committed.
     */
    public long get(final DirectBuffer termBuffer, final int termOffset, final int frameLength)
    {
        final int termId = termBuffer.getInt(termOffset + DataHeaderFlyweight.TERM_ID_FIELD_OFFSET, ByteOrder.LITTLE_ENDIAN);
        return tag(termId, termOffset, termBuffer, termOffset + DataHeaderFlyweight.HEADER_LENGTH,
            frameLength - DataHeaderFlyweight.HEADER_LENGTH);
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

    private long tag(
        final int termId, final int termOffset, final DirectBuffer buffer, final int offset, final int length)
    {
        final long position = ((long)termId << 32) | (termOffset & 0xffff_ffffL);
        return SipHash.hashWithPrefix(k0, k1, position, buffer, offset, length);
    }
}
