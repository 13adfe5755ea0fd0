package dev.bitfusion.cuda.fatbin;

import com.github.luben.zstd.Zstd;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The bytes of a fatbin entry, decompressed when the entry is zstd- or LZ4-compressed.
 * <p>
 * Needs zstd-jni and lz4-java, which the cuda module declares optional: a module that decompresses (the
 * emulator, and the server through it) declares them itself. The agent runs inside applications, only walks
 * and cuts containers, and never loads this class, so zstd-jni's native library stays out of their process.
 * <p>
 * Thread safety: stateless.
 */
public final class FatbinPayload
{
    private FatbinPayload()
    {
    }

    /**
     * @param entry a wrapped entry.
     * @return its payload, decompressed; padding included when it was not compressed.
     * @throws FatbinFormatException when a compressed payload is corrupt or gives no usable size.
     */
    public static byte[] bytes(final FatbinEntry entry) throws FatbinFormatException
    {
        final byte[] image = entry.image();
        final int start = entry.payloadOffset();
        final int length = entry.payloadLength();
        if (entry.isZstd())
        {
            return zstd(image, start, compressedLength(entry), entry.uncompressedLength());
        }
        if (entry.isLz4())
        {
            return lz4(image, start, compressedLength(entry), entry.uncompressedLength());
        }
        return Arrays.copyOfRange(image, start, start + length);
    }

    /**
     * @param entry a wrapped PTX entry.
     * @return its text, up to the NUL that ends it (payloads are NUL-padded).
     * @throws FatbinFormatException when a compressed payload is corrupt or gives no usable size.
     */
    public static String ptx(final FatbinEntry entry) throws FatbinFormatException
    {
        final byte[] payload = bytes(entry);
        int end = 0;
        while (end < payload.length && payload[end] != 0)
        {
            end++;
        }
        return new String(payload, 0, end, StandardCharsets.UTF_8);
    }

    /** The payload is padded; the header says how many of its bytes are compressed data, when it says. */
    private static int compressedLength(final FatbinEntry entry)
    {
        final int compressed = entry.compressedLength();
        return compressed > 0 && compressed <= entry.payloadLength() ? compressed : entry.payloadLength();
    }

    private static byte[] zstd(final byte[] image, final int start, final int length, final long uncompressedLength)
        throws FatbinFormatException
    {
        final byte[] frame = Arrays.copyOfRange(image, start, start + length);
        long expected = uncompressedLength;
        if (expected <= 0 || expected > Integer.MAX_VALUE)
        {
            expected = Zstd.getFrameContentSize(frame);
        }
        if (expected <= 0 || expected > Integer.MAX_VALUE)
        {
            throw new FatbinFormatException("compressed fatbin entry without a usable size");
        }
        try
        {
            return Zstd.decompress(frame, (int)expected);
        }
        catch (final RuntimeException ex)
        {
            throw new FatbinFormatException("compressed fatbin entry is corrupt: " + ex.getMessage());
        }
    }

    private static byte[] lz4(final byte[] image, final int start, final int length, final long uncompressedLength)
        throws FatbinFormatException
    {
        if (uncompressedLength <= 0 || uncompressedLength > Integer.MAX_VALUE)
        {
            throw new FatbinFormatException("LZ4-compressed fatbin entry without a usable size");
        }
        final byte[] payload = new byte[(int)uncompressedLength];
        try
        {
            final int produced = LZ4Factory.safeInstance().safeDecompressor().decompress(image, start, length, payload, 0);
            if (produced != payload.length)
            {
                throw new FatbinFormatException("LZ4-compressed fatbin entry gave " + produced + " of " +
                    payload.length + " bytes");
            }
        }
        catch (final LZ4Exception ex)
        {
            throw new FatbinFormatException("LZ4-compressed fatbin entry is corrupt: " + ex.getMessage());
        }
        return payload;
    }
}
