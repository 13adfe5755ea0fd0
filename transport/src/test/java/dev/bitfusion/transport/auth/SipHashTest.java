package dev.bitfusion.transport.auth;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class SipHashTest
{
    /** Key 00 01 .. 0f, as in the paper's test vector. */
    private static final long K0 = 0x0706050403020100L;
    private static final long K1 = 0x0f0e0d0c0b0a0908L;

    @Test
    void matchesThePapersTestVector()
    {
        final UnsafeBuffer message = new UnsafeBuffer(new byte[15]);
        for (int i = 0; i < 15; i++)
        {
            message.putByte(i, (byte)i);
        }
        assertEquals(0xa129ca6149be45e5L, SipHash.hash(K0, K1, message, 0, 15));
    }

    @Test
    void aPrefixCountsAsItsEightLittleEndianBytes()
    {
        final UnsafeBuffer whole = new UnsafeBuffer(new byte[8 + 37]);
        whole.putLong(0, 0x1122334455667788L, ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 37; i++)
        {
            whole.putByte(8 + i, (byte)(i * 13));
        }
        for (int length = 0; length <= 37; length++)
        {
            assertEquals(SipHash.hash(K0, K1, whole, 0, 8 + length),
                SipHash.hashWithPrefix(K0, K1, 0x1122334455667788L, whole, 8, length), "length " + length);
        }
    }

    @Test
    void everyByteAndTheKeyMatter()
    {
        final UnsafeBuffer message = new UnsafeBuffer(new byte[64]);
        final long original = SipHash.hash(K0, K1, message, 0, 64);
        for (int i = 0; i < 64; i++)
        {
            message.putByte(i, (byte)1);
            assertNotEquals(original, SipHash.hash(K0, K1, message, 0, 64), "byte " + i);
            message.putByte(i, (byte)0);
        }
        assertNotEquals(original, SipHash.hash(K0 + 1, K1, message, 0, 64));
        assertNotEquals(original, SipHash.hash(K0, K1, message, 0, 63));
    }
}
