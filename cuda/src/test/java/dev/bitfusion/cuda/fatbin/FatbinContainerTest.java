package dev.bitfusion.cuda.fatbin;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.bitfusion.cuda.fatbin.Fatbins.concat;
import static dev.bitfusion.cuda.fatbin.Fatbins.container;
import static dev.bitfusion.cuda.fatbin.Fatbins.entry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FatbinContainerTest
{
    private static final byte[] PTX = ".version 8.0\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CUBIN = {0x7F, 'E', 'L', 'F', 2, 1, 1, 0};

    @Test
    void shouldVisitEveryEntryOfEveryContainerInOrder() throws Exception
    {
        final byte[] image = concat(
            container(entry(FatbinEntry.KIND_ELF, 80, CUBIN), entry(FatbinEntry.KIND_PTX, 75, PTX)),
            container(entry(FatbinEntry.KIND_ELF, 90, CUBIN)));
        final List<String> seen = new ArrayList<>();

        final int end = FatbinContainer.forEachEntry(image, entry ->
            seen.add((entry.isPtx() ? "ptx" : entry.isElf() ? "elf" : "?") + entry.architecture() + "@" +
                entry.offset() + "+" + entry.payloadLength()));

        assertEquals(image.length, end);
        assertEquals(List.of("elf80@16+8", "ptx75@88+16", "elf90@184+8"), seen);
    }

    @Test
    void shouldStopAtBytesThatAreNoContainerAndSayWhere() throws Exception
    {
        final byte[] one = container(entry(FatbinEntry.KIND_PTX, 75, PTX));
        final byte[] padded = concat(one, new byte[24]);

        assertEquals(one.length, FatbinContainer.forEachEntry(padded, entry -> { }));
        assertEquals(0, FatbinContainer.forEachEntry(PTX, entry -> { }));
        assertFalse(FatbinContainer.isFatbin(PTX));
        assertTrue(FatbinContainer.isFatbin(one));
    }

    @Test
    void shouldDescribeAContainerItWraps() throws Exception
    {
        final byte[] image = concat(new byte[8], container(entry(FatbinEntry.KIND_PTX, 75, PTX)));
        final FatbinContainer container = new FatbinContainer();

        assertFalse(container.wrap(image, 0));
        assertTrue(container.wrap(image, 8));
        assertEquals(8, container.offset());
        assertEquals(16, container.headerLength());
        assertEquals(24, container.entriesOffset());
        assertEquals(image.length, container.end());
    }

    @Test
    void shouldRefuseAContainerWhoseEntriesRunPastTheImage()
    {
        final byte[] image = container(entry(FatbinEntry.KIND_PTX, 75, PTX));
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putLong(FatbinContainer.ENTRIES_LENGTH_OFFSET, image.length);

        final FatbinFormatException ex = assertThrows(FatbinFormatException.class,
            () -> FatbinContainer.forEachEntry(image, entry -> { }));
        assertEquals("fatbin header at offset 0 is truncated", ex.getMessage());
    }

    @Test
    void shouldRefuseAnEntryWhosePayloadRunsPastItsContainer()
    {
        final byte[] image = concat(container(entry(FatbinEntry.KIND_PTX, 75, PTX)),
            container(entry(FatbinEntry.KIND_ELF, 90, CUBIN)));
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putLong(16 + 8, 40);

        final FatbinFormatException ex = assertThrows(FatbinFormatException.class,
            () -> FatbinContainer.forEachEntry(image, entry -> { }));
        assertEquals("fatbin entry at offset 16 is truncated", ex.getMessage());
    }

    @Test
    void shouldRefuseAnEntryHeaderShorterThanTheFormats()
    {
        final byte[] image = container(entry(FatbinEntry.KIND_PTX, 75, PTX));
        ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).putInt(16 + 4, 32);

        assertThrows(FatbinFormatException.class, () -> FatbinContainer.forEachEntry(image, entry -> { }));
    }

    @Test
    void shouldFindTheFatbinBehindCudartsWrapper()
    {
        final byte[] fatbin = container(entry(FatbinEntry.KIND_PTX, 75, PTX));
        final byte[] wrapped = concat(ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN)
            .putInt(FatbinWrapper.MAGIC).putInt(1).putLong(0x7f00_0000_1000L).array(), fatbin);

        assertTrue(FatbinWrapper.isWrapper(wrapped));
        assertFalse(FatbinWrapper.isWrapper(fatbin));
        assertEquals(ByteBuffer.wrap(fatbin), ByteBuffer.wrap(FatbinWrapper.fatbinAfter(wrapped)));
        assertNull(FatbinWrapper.fatbinAfter(Arrays.copyOf(wrapped, 24)), "a wrapper without the fatbin's bytes");
    }
}
