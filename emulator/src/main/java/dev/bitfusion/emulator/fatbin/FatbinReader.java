package dev.bitfusion.emulator.fatbin;

import com.github.luben.zstd.Zstd;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import dev.bitfusion.emulator.EmulatorException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Reads the PTX out of a fatbin image, the container nvcc embeds in programs and cudart registers.
 * <p>
 * Layout (little endian), one or more of these back to back:
 * <pre>
 *   fatbin header (16 bytes)
 *   +0  u32 magic 0xBA55ED50   +4 u16 version (1)   +6 u16 header size   +8 u64 size of the entries
 *   entry header (header size bytes, at least 0x40)
 *   +0  u16 kind (1 PTX, 2 ELF)   +2 u16 entry version   +4 u32 header size   +8 u64 payload size
 *   +16 u32 compressed size       +24 u32 PTX/ELF version (minor, major)      +28 u32 sm arch
 *   +40 u64 flags                 +56 u64 uncompressed size (when compressed)
 *   payload (payload size bytes; zstd frames start with 28 B5 2F FD)
 * </pre>
 * Thread safety: stateless.
 */
public final class FatbinReader
{
    /** Magic of a fatbin header. */
    public static final int FATBIN_MAGIC = 0xBA55ED50;

    /** Magic of cudart's fatbin wrapper ({@code __fatBinC_Wrapper_t}). */
    public static final int WRAPPER_MAGIC = 0x466243B1;

    private static final int KIND_PTX = 1;
    private static final int KIND_ELF = 2;
    private static final int ZSTD_MAGIC = 0xFD2FB528;
    private static final long FLAG_COMPRESSED_LZ4 = 0x2000;

    private FatbinReader()
    {
    }

    /**
     * @param image a fatbin image.
     * @return the PTX texts it carries, the highest architecture first.
     * @throws EmulatorException 209 (NO_BINARY_FOR_GPU) when it only holds machine code, 200
     *                           (INVALID_IMAGE) when it is malformed.
     */
    public static List<String> ptxSources(final byte[] image) throws EmulatorException
    {
        final ByteBuffer buffer = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        final List<int[]> order = new ArrayList<>();
        final List<String> sources = new ArrayList<>();
        final TreeSet<Integer> elfArchs = new TreeSet<>();
        int offset = 0;
        while (offset + 16 <= image.length && buffer.getInt(offset) == FATBIN_MAGIC)
        {
            final int headerSize = buffer.getShort(offset + 6) & 0xFFFF;
            final long entriesSize = buffer.getLong(offset + 8);
            final long end = offset + headerSize + entriesSize;
            if (headerSize < 16 || entriesSize < 0 || end > image.length)
            {
                throw new EmulatorException(200, "fatbin header at offset " + offset + " is truncated");
            }
            int entry = offset + headerSize;
            while (entry + 0x40 <= end)
            {
                final int kind = buffer.getShort(entry) & 0xFFFF;
                final int entryHeaderSize = buffer.getInt(entry + 4);
                final long payloadSize = buffer.getLong(entry + 8);
                final int arch = buffer.getInt(entry + 28);
                final long flags = buffer.getLong(entry + 40);
                final long uncompressedSize = buffer.getLong(entry + 56);
                final long payloadStart = (long)entry + entryHeaderSize;
                if (entryHeaderSize < 0x40 || payloadSize < 0 || payloadStart + payloadSize > end)
                {
                    throw new EmulatorException(200, "fatbin entry at offset " + entry + " is truncated");
                }
                if (kind == KIND_PTX)
                {
                    final int compressedSize = buffer.getInt(entry + 16);
                    sources.add(ptx(image, (int)payloadStart, (int)payloadSize, compressedSize, flags, uncompressedSize));
                    order.add(new int[]{ arch, sources.size() - 1 });
                }
                else if (kind == KIND_ELF)
                {
                    elfArchs.add(arch);
                }
                entry = (int)(payloadStart + payloadSize);
            }
            offset = (int)end;
        }
        if (offset == 0)
        {
            throw new EmulatorException(200, "not a fatbin: bad magic");
        }
        if (sources.isEmpty())
        {
            final StringBuilder archs = new StringBuilder();
            for (final int arch : elfArchs)
            {
                archs.append(archs.length() == 0 ? "" : ", ").append("sm_").append(arch);
            }
            throw new EmulatorException(209, "the fatbin holds no PTX, only machine code for " +
                (archs.length() == 0 ? "no architecture" : archs) + "; rebuild with PTX (e.g. -gencode " +
                "arch=compute_75,code=compute_75) to run on the emulated GPU");
        }
        order.sort((a, b) -> Integer.compare(b[0], a[0]));
        final List<String> sorted = new ArrayList<>(sources.size());
        for (final int[] pair : order)
        {
            sorted.add(sources.get(pair[1]));
        }
        return sorted;
    }

    /**
     * Entries of fatbins built for speed (and by CUDA 11 and 12 when compressing) are raw LZ4 blocks.
     */
    private static byte[] lz4Payload(
        final byte[] image, final int start, final int size, final int compressedSize, final long uncompressedSize)
        throws EmulatorException
    {
        if (uncompressedSize <= 0 || uncompressedSize > Integer.MAX_VALUE)
        {
            throw new EmulatorException(200, "LZ4-compressed fatbin entry without a usable size");
        }
        final int blockSize = compressedSize > 0 && compressedSize <= size ? compressedSize : size;
        final byte[] payload = new byte[(int)uncompressedSize];
        try
        {
            final int produced = LZ4Factory.safeInstance().safeDecompressor()
                .decompress(image, start, blockSize, payload, 0);
            if (produced != payload.length)
            {
                throw new EmulatorException(200, "LZ4-compressed fatbin entry gave " + produced + " of " +
                    payload.length + " bytes");
            }
        }
        catch (final LZ4Exception ex)
        {
            throw new EmulatorException(200, "LZ4-compressed fatbin entry is corrupt: " + ex.getMessage());
        }
        return payload;
    }

    private static String ptx(
        final byte[] image,
        final int start,
        final int size,
        final int compressedSize,
        final long flags,
        final long uncompressedSize) throws EmulatorException
    {
        final byte[] payload = entryPayload(image, start, size, compressedSize, flags, uncompressedSize);
        return text(payload, 0, payload.length);
    }

    /**
     * The bytes of one fatbin entry (PTX text or a cubin), decompressed when the entry is zstd- or
     * LZ4-compressed.
     *
     * @param image            the fatbin.
     * @param start            where the entry's payload starts.
     * @param size             the payload's size in the fatbin (padded).
     * @param compressedSize   the compressed size from the entry header, 0 when unknown.
     * @param flags            the entry's flags.
     * @param uncompressedSize the uncompressed size from the entry header, 0 when unknown.
     * @return the entry's bytes.
     * @throws EmulatorException for corrupt entries.
     */
    public static byte[] entryPayload(
        final byte[] image,
        final int start,
        final int size,
        final int compressedSize,
        final long flags,
        final long uncompressedSize) throws EmulatorException
    {
        final boolean zstd = size >= 4 && (image[start] & 0xFF) == 0x28 && (image[start + 1] & 0xFF) == 0xB5 &&
            (image[start + 2] & 0xFF) == 0x2F && (image[start + 3] & 0xFF) == 0xFD;
        if (!zstd)
        {
            if ((flags & FLAG_COMPRESSED_LZ4) != 0)
            {
                return lz4Payload(image, start, size, compressedSize, uncompressedSize);
            }
            final byte[] plain = new byte[size];
            System.arraycopy(image, start, plain, 0, size);
            return plain;
        }
        // The payload is padded; the entry header says how many bytes the zstd frame really has.
        final int frameSize = compressedSize > 0 && compressedSize <= size ? compressedSize : size;
        final byte[] frame = new byte[frameSize];
        System.arraycopy(image, start, frame, 0, frameSize);
        long expected = uncompressedSize;
        if (expected <= 0 || expected > Integer.MAX_VALUE)
        {
            expected = Zstd.getFrameContentSize(frame);
        }
        if (expected <= 0 || expected > Integer.MAX_VALUE)
        {
            throw new EmulatorException(200, "compressed fatbin entry without a usable size");
        }
        try
        {
            return Zstd.decompress(frame, (int)expected);
        }
        catch (final RuntimeException ex)
        {
            throw new EmulatorException(200, "compressed fatbin entry is corrupt: " + ex.getMessage());
        }
    }

    /** PTX text up to its terminating NUL (entries are NUL-padded). */
    private static String text(final byte[] bytes, final int start, final int length)
    {
        int end = start;
        while (end < start + length && bytes[end] != 0)
        {
            end++;
        }
        return new String(bytes, start, end - start, StandardCharsets.UTF_8);
    }
}
