package dev.bitfusion.cuda.fatbin;

import com.github.luben.zstd.Zstd;
import net.jpountz.lz4.LZ4Factory;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static dev.bitfusion.cuda.fatbin.Fatbins.container;
import static dev.bitfusion.cuda.fatbin.Fatbins.entry;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FatbinPayloadTest
{
    private static final String PTX = ".version 8.0\n.target sm_75\n.address_size 64\n" + "// padding\n".repeat(40);
    private static final byte[] PTX_BYTES = PTX.getBytes(StandardCharsets.US_ASCII);

    private static FatbinEntry only(final byte[] image) throws FatbinFormatException
    {
        final FatbinContainer container = new FatbinContainer();
        final FatbinEntry entry = new FatbinEntry();
        assertTrue(container.wrap(image, 0));
        assertTrue(entry.wrap(container, container.entriesOffset()));
        return entry;
    }

    @Test
    void shouldGivePlainPtxUpToItsNul() throws Exception
    {
        final FatbinEntry entry = only(container(entry(FatbinEntry.KIND_PTX, 75, PTX_BYTES)));

        assertFalse(entry.isZstd() || entry.isLz4());
        assertEquals(PTX, FatbinPayload.ptx(entry));
        assertEquals(entry.payloadLength(), FatbinPayload.bytes(entry).length, "padding included");
    }

    @Test
    void shouldDecompressAZstdFrameOfTheLengthTheHeaderGives() throws Exception
    {
        final byte[] frame = Zstd.compress(PTX_BYTES);
        final FatbinEntry entry = only(container(
            entry(FatbinEntry.KIND_PTX, 75, frame, 0, frame.length, PTX_BYTES.length)));

        assertTrue(entry.isZstd());
        assertEquals(PTX, FatbinPayload.ptx(entry));
    }

    @Test
    void shouldTakeTheUncompressedSizeFromTheZstdFrameWhenTheHeaderGivesNone() throws Exception
    {
        final byte[] frame = Zstd.compress(PTX_BYTES);
        final FatbinEntry entry = only(container(entry(FatbinEntry.KIND_ELF, 90, frame, 0, frame.length, 0)));

        assertArrayEquals(PTX_BYTES, FatbinPayload.bytes(entry));
    }

    @Test
    void shouldDecompressAnLz4BlockWhenTheFlagSaysSo() throws Exception
    {
        final byte[] block = LZ4Factory.safeInstance().fastCompressor().compress(PTX_BYTES);
        final FatbinEntry entry = only(container(entry(FatbinEntry.KIND_PTX, 75, block,
            FatbinEntry.FLAG_COMPRESSED_LZ4, block.length, PTX_BYTES.length)));

        assertTrue(entry.isLz4());
        assertEquals(PTX, FatbinPayload.ptx(entry));
    }

    @Test
    void shouldRefuseACorruptCompressedPayload() throws Exception
    {
        final byte[] frame = Zstd.compress(PTX_BYTES);
        Arrays.fill(frame, 8, frame.length, (byte)0x55);
        final FatbinEntry zstd = only(container(entry(FatbinEntry.KIND_PTX, 75, frame, 0, frame.length, PTX_BYTES.length)));
        final byte[] block = LZ4Factory.safeInstance().fastCompressor().compress(PTX_BYTES);
        final FatbinEntry lz4 = only(container(entry(FatbinEntry.KIND_PTX, 75, block,
            FatbinEntry.FLAG_COMPRESSED_LZ4, block.length, PTX_BYTES.length + 100)));

        assertTrue(assertThrows(FatbinFormatException.class, () -> FatbinPayload.bytes(zstd)).getMessage()
            .startsWith("compressed fatbin entry is corrupt"));
        assertTrue(assertThrows(FatbinFormatException.class, () -> FatbinPayload.bytes(lz4)).getMessage()
            .startsWith("LZ4-compressed fatbin entry"));
    }
}
