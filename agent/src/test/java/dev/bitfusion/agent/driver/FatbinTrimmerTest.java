package dev.bitfusion.agent.driver;

import dev.bitfusion.cuda.fatbin.FatbinContainer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class FatbinTrimmerTest
{
    private static final int PTX = 1;
    private static final int ELF = 2;

    /** One entry as nvcc lays it out: a 64-byte header, then the payload (padded to 8 bytes). */
    private static byte[] entry(final int kind, final int architecture, final int payloadBytes)
    {
        final ByteBuffer entry = ByteBuffer.allocate(64 + payloadBytes).order(ByteOrder.LITTLE_ENDIAN);
        entry.putShort(0, (short)kind).putShort(2, (short)0x101).putInt(4, 64).putLong(8, payloadBytes)
            .putInt(28, architecture);
        Arrays.fill(entry.array(), 64, 64 + payloadBytes, (byte)architecture);
        return entry.array();
    }

    private static byte[] container(final byte[]... entries)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final int size = Arrays.stream(entries).mapToInt(e -> e.length).sum();
        final ByteBuffer header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(0, FatbinContainer.MAGIC).putShort(4, (short)1).putShort(6, (short)16).putLong(8, size);
        out.writeBytes(header.array());
        for (final byte[] entry : entries)
        {
            out.writeBytes(entry);
        }
        return out.toByteArray();
    }

    private static byte[] concat(final byte[]... parts)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final byte[] part : parts)
        {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** The kind and architecture of each entry, container by container ("|" between containers). */
    private static List<String> entries(final byte[] image)
    {
        final ByteBuffer in = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        final List<String> found = new ArrayList<>();
        int offset = 0;
        while (offset + 16 <= image.length)
        {
            assertEquals(FatbinContainer.MAGIC, in.getInt(offset));
            final long end = offset + 16 + in.getLong(offset + 8);
            for (int entry = offset + 16; entry < end; entry += 64 + (int)in.getLong(entry + 8))
            {
                found.add((in.getShort(entry) == PTX ? "ptx" : "elf") + in.getInt(entry + 28));
                assertEquals((byte)in.getInt(entry + 28), image[entry + 64], "the payload travels with its header");
            }
            assertTrue(end <= image.length);
            offset = (int)end;
            if (offset < image.length)
            {
                found.add("|");
            }
        }
        return found;
    }

    @Test
    void shouldKeepTheMachineCodeTheGpuCanRunAndItsBestPtx()
    {
        final byte[] image = container(entry(ELF, 75, 40), entry(PTX, 75, 24), entry(ELF, 80, 48), entry(PTX, 80, 24),
            entry(ELF, 86, 48), entry(ELF, 90, 56), entry(PTX, 90, 32), entry(ELF, 100, 64), entry(PTX, 100, 32));

        assertEquals(List.of("elf90", "ptx90"), entries(FatbinTrimmer.forArchitecture(image, 90)));
        assertEquals(List.of("elf80", "elf86", "ptx80"),
            entries(FatbinTrimmer.forArchitecture(image, 86)).stream().sorted().toList(),
            "an 8.6 GPU runs 8.0 and 8.6 machine code");
        assertEquals(List.of("elf75", "ptx75"), entries(FatbinTrimmer.forArchitecture(image, 75)));
    }

    @Test
    void shouldKeepPtxAloneWhereNoMachineCodeFits()
    {
        final byte[] image = container(entry(ELF, 75, 40), entry(PTX, 75, 24), entry(ELF, 80, 48));
        assertEquals(List.of("ptx75"), entries(FatbinTrimmer.forArchitecture(image, 90)),
            "the driver compiles compute_75 PTX for a 9.0 GPU");
    }

    @Test
    void shouldKeepAContainerWholeWhenNothingInItFits()
    {
        final byte[] sassForHopper = container(entry(ELF, 90, 56));
        assertSame(sassForHopper, FatbinTrimmer.forArchitecture(sassForHopper, 80),
            "the server then says why it cannot load, as the driver would");
        final byte[] image = concat(sassForHopper, container(entry(ELF, 80, 48), entry(ELF, 90, 56)));
        assertEquals(List.of("elf90", "|", "elf80"), entries(FatbinTrimmer.forArchitecture(image, 80)));
    }

    @Test
    void shouldLeaveImagesThatAreNotFatbinsOrCannotBeReadAlone()
    {
        final byte[] ptx = ".version 8.0\n.target sm_75\n".getBytes(StandardCharsets.US_ASCII);
        assertSame(ptx, FatbinTrimmer.forArchitecture(ptx, 90));

        final byte[] truncated = Arrays.copyOf(container(entry(ELF, 80, 48), entry(ELF, 90, 56)), 100);
        assertSame(truncated, FatbinTrimmer.forArchitecture(truncated, 90));

        final byte[] badEntry = container(entry(ELF, 80, 48), entry(ELF, 90, 56));
        ByteBuffer.wrap(badEntry).order(ByteOrder.LITTLE_ENDIAN).putLong(16 + 8, -5);
        assertSame(badEntry, FatbinTrimmer.forArchitecture(badEntry, 90));

        final byte[] nothingToDrop = container(entry(ELF, 90, 56), entry(PTX, 90, 32));
        assertSame(nothingToDrop, FatbinTrimmer.forArchitecture(nothingToDrop, 90));
        assertSame(nothingToDrop, FatbinTrimmer.forArchitecture(nothingToDrop, 0), "an unknown architecture");
    }
}
