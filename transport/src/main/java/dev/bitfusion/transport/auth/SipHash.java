package dev.bitfusion.transport.auth;

import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit pseudo-random function, fast on short inputs, used
 * as the tag of each fragment of an authenticated request stream. Written from the paper's specification.
 * <p>
 * The input is an optional leading 64-bit word (the fragment's position in its stream, so that a fragment replayed
 * at another position fails) followed by bytes of a buffer; the word counts as its eight little-endian bytes.
 * <p>
 * Thread safety: stateless; no allocation.
 */
public final class SipHash
{
    private SipHash()
    {
    }

    /**
     * @return SipHash-2-4 of the buffer's bytes under the key (k0, k1), each key half read little-endian.
     */
    public static long hash(final long k0, final long k1, final DirectBuffer buffer, final int offset, final int length)
    {
        return hash(k0, k1, false, 0, buffer, offset, length);
    }

    /**
     * @return SipHash-2-4 of the eight little-endian bytes of {@code prefix} followed by the buffer's bytes.
     */
    public static long hashWithPrefix(
        final long k0, final long k1, final long prefix, final DirectBuffer buffer, final int offset, final int length)
    {
        return hash(k0, k1, true, prefix, buffer, offset, length);
    }

    private static long hash(
        final long k0,
        final long k1,
        final boolean hasPrefix,
        final long prefix,
        final DirectBuffer buffer,
        final int offset,
        final int length)
    {
        long v0 = k0 ^ 0x736f6d6570736575L;
        long v1 = k1 ^ 0x646f72616e646f6dL;
        long v2 = k0 ^ 0x6c7967656e657261L;
        long v3 = k1 ^ 0x7465646279746573L;

        final int wholeWordsEnd = offset + (length & ~7);
        final long lastWord = lastWord((hasPrefix ? 8L : 0L) + length, buffer, wholeWordsEnd, length & 7);
        // Word by word: the prefix, the buffer's whole words, the last (partial) word with the length; then the
        // finalisation, as one more step of four rounds that mixes no word in.
        int position = offset;
        for (int step = hasPrefix ? -1 : 0; ; step++)
        {
            final boolean finalisation = position > wholeWordsEnd;
            final long word;
            if (step < 0)
            {
                word = prefix;
            }
            else if (position < wholeWordsEnd)
            {
                word = buffer.getLong(position, ByteOrder.LITTLE_ENDIAN);
                position += 8;
            }
            else if (!finalisation)
            {
                word = lastWord;
                position++;
            }
            else
            {
                word = 0;
            }

            if (finalisation)
            {
                v2 ^= 0xff;
            }
            else
            {
                v3 ^= word;
            }
            for (int round = 0, rounds = finalisation ? 4 : 2; round < rounds; round++)
            {
                v0 += v1;
                v1 = Long.rotateLeft(v1, 13);
                v1 ^= v0;
                v0 = Long.rotateLeft(v0, 32);
                v2 += v3;
                v3 = Long.rotateLeft(v3, 16);
                v3 ^= v2;
                v0 += v3;
                v3 = Long.rotateLeft(v3, 21);
                v3 ^= v0;
                v2 += v1;
                v1 = Long.rotateLeft(v1, 17);
                v1 ^= v2;
                v2 = Long.rotateLeft(v2, 32);
            }
            if (finalisation)
            {
                return v0 ^ v1 ^ v2 ^ v3;
            }
            v0 ^= word;
        }
    }

    /** The last word: the input's length in its top byte, the bytes after the last whole word below it. */
    private static long lastWord(final long totalLength, final DirectBuffer buffer, final int index, final int count)
    {
        long word = totalLength << 56;
        for (int i = 0; i < count; i++)
        {
            word |= (buffer.getByte(index + i) & 0xffL) << (8 * i);
        }
        return word;
    }
}
