package dev.bitfusion.transport.auth;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * The ChaCha20 stream cipher (RFC 8439, section 2.4), written from the RFC: a 256-bit key, a 32-bit block counter
 * and a 96-bit nonce give 64-byte blocks of keystream, which encryption and decryption alike XOR into the data.
 * A (key, nonce) pair must never encrypt two different messages: {@link FragmentAuthenticator} takes the nonce from
 * the fragment's place in its stream, which no other fragment under the same key has.
 * <p>
 * The state is kept in locals, so a call allocates nothing and any number of threads may use one key at once.
 * <p>
 * Thread safety: immutable.
 */
public final class ChaCha20
{
    /** The key's length in bytes. */
    public static final int KEY_LENGTH = 32;
    /** The keystream block's length in bytes. */
    public static final int BLOCK_LENGTH = 64;

    // "expand 32-byte k", the RFC's constants.
    private static final int C0 = 0x61707865;
    private static final int C1 = 0x3320646e;
    private static final int C2 = 0x79622d32;
    private static final int C3 = 0x6b206574;

    private final int k0, k1, k2, k3, k4, k5, k6, k7;

    /**
     * @param key at least {@link #KEY_LENGTH} bytes; the first 32 are the key, read as eight little-endian words.
     */
    public ChaCha20(final byte[] key)
    {
        if (key.length < KEY_LENGTH)
        {
            throw new IllegalArgumentException("a ChaCha20 key needs 32 bytes, got " + key.length);
        }
        final UnsafeBuffer view = new UnsafeBuffer(key);
        k0 = view.getInt(0, ByteOrder.LITTLE_ENDIAN);
        k1 = view.getInt(4, ByteOrder.LITTLE_ENDIAN);
        k2 = view.getInt(8, ByteOrder.LITTLE_ENDIAN);
        k3 = view.getInt(12, ByteOrder.LITTLE_ENDIAN);
        k4 = view.getInt(16, ByteOrder.LITTLE_ENDIAN);
        k5 = view.getInt(20, ByteOrder.LITTLE_ENDIAN);
        k6 = view.getInt(24, ByteOrder.LITTLE_ENDIAN);
        k7 = view.getInt(28, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * XOR the keystream of (nonce, counter onwards) into {@code length} bytes of {@code src}, writing them to
     * {@code dst}: encryption and decryption both. {@code src} and {@code dst} may be the same bytes (in place).
     *
     * @param counter the first block's counter; the next blocks count up from it.
     * @param n0      the nonce's first four bytes, read little-endian, as the RFC lays the state out.
     * @param n1      its next four.
     * @param n2      its last four.
     */
    public void xor(
        final int counter,
        final int n0,
        final int n1,
        final int n2,
        final DirectBuffer src,
        final int srcOffset,
        final MutableDirectBuffer dst,
        final int dstOffset,
        final int length)
    {
        int block = counter;
        for (int done = 0; done < length; done += BLOCK_LENGTH, block++)
        {
            int x0 = C0, x1 = C1, x2 = C2, x3 = C3;
            int x4 = k0, x5 = k1, x6 = k2, x7 = k3;
            int x8 = k4, x9 = k5, x10 = k6, x11 = k7;
            int x12 = block, x13 = n0, x14 = n1, x15 = n2;

            // Ten double rounds: a column round then a diagonal round, each four quarter rounds (RFC 8439 2.1, 2.3).
            for (int i = 0; i < 10; i++)
            {
                x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 16);
                x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 12);
                x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 8);
                x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 7);

                x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 16);
                x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 12);
                x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 8);
                x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 7);

                x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 16);
                x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 12);
                x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 8);
                x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 7);

                x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 16);
                x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 12);
                x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 8);
                x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 7);

                x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 16);
                x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 12);
                x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 8);
                x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 7);

                x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 16);
                x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 12);
                x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 8);
                x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 7);

                x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 16);
                x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 12);
                x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 8);
                x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 7);

                x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 16);
                x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 12);
                x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 8);
                x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 7);
            }

            // The block is the rounds' output plus the input state, word by word, serialised little-endian.
            final int end = Math.min(length - done, BLOCK_LENGTH);
            final int s = srcOffset + done;
            final int d = dstOffset + done;
            int at = 0;
            at = xorWord(src, s, dst, d, at, end, x0 + C0);
            at = xorWord(src, s, dst, d, at, end, x1 + C1);
            at = xorWord(src, s, dst, d, at, end, x2 + C2);
            at = xorWord(src, s, dst, d, at, end, x3 + C3);
            at = xorWord(src, s, dst, d, at, end, x4 + k0);
            at = xorWord(src, s, dst, d, at, end, x5 + k1);
            at = xorWord(src, s, dst, d, at, end, x6 + k2);
            at = xorWord(src, s, dst, d, at, end, x7 + k3);
            at = xorWord(src, s, dst, d, at, end, x8 + k4);
            at = xorWord(src, s, dst, d, at, end, x9 + k5);
            at = xorWord(src, s, dst, d, at, end, x10 + k6);
            at = xorWord(src, s, dst, d, at, end, x11 + k7);
            at = xorWord(src, s, dst, d, at, end, x12 + block);
            at = xorWord(src, s, dst, d, at, end, x13 + n0);
            at = xorWord(src, s, dst, d, at, end, x14 + n1);
            xorWord(src, s, dst, d, at, end, x15 + n2);
        }
    }

    /**
     * XOR one keystream word into the bytes at {@code at} of the block, as many of its four as are before
     * {@code end}.
     *
     * @return where the next word goes.
     */
    private static int xorWord(
        final DirectBuffer src,
        final int srcOffset,
        final MutableDirectBuffer dst,
        final int dstOffset,
        final int at,
        final int end,
        final int word)
    {
        if (end - at >= 4)
        {
            dst.putInt(dstOffset + at, src.getInt(srcOffset + at, ByteOrder.LITTLE_ENDIAN) ^ word, ByteOrder.LITTLE_ENDIAN);
            return at + 4;
        }
        for (int i = at; i < end; i++)
        {
            dst.putByte(dstOffset + i, (byte)(src.getByte(srcOffset + i) ^ (word >>> (8 * (i - at)))));
        }
        return end;
    }
}
