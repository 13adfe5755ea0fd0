package dev.bitfusion.cuda.fatbin;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Fatbin images for the tests, laid out as nvcc lays them out: containers of 64-byte entry headers, each
 * followed by its payload.
 */
final class Fatbins
{
    private Fatbins()
    {
    }

    static byte[] entry(final int kind, final int architecture, final byte[] payload)
    {
        return entry(kind, architecture, payload, 0, 0, 0);
    }

    static byte[] entry(
        final int kind,
        final int architecture,
        final byte[] payload,
        final long flags,
        final int compressedLength,
        final long uncompressedLength)
    {
        final int padded = (payload.length + 7) & ~7;
        final ByteBuffer entry = ByteBuffer.allocate(64 + padded).order(ByteOrder.LITTLE_ENDIAN);
        entry.putShort(0, (short)kind).putShort(2, (short)0x101).putInt(4, 64).putLong(8, padded)
            .putInt(16, compressedLength).putInt(28, architecture).putLong(40, flags).putLong(56, uncompressedLength);
        entry.put(64, payload);
        return entry.array();
    }

    static byte[] container(final byte[]... entries)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        long length = 0;
        for (final byte[] entry : entries)
        {
            length += entry.length;
        }
        out.writeBytes(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
            .putInt(0, FatbinContainer.MAGIC).putShort(4, (short)1).putShort(6, (short)16).putLong(8, length).array());
        for (final byte[] entry : entries)
        {
            out.writeBytes(entry);
        }
        return out.toByteArray();
    }

    static byte[] concat(final byte[]... parts)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final byte[] part : parts)
        {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }
}
