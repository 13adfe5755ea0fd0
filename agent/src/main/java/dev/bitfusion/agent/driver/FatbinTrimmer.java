package dev.bitfusion.agent.driver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Cuts a fatbin down to what one GPU can run before it travels to the server. Libraries ship machine code
 * for every architecture they support (PyTorch's for six or more, hundreds of MiB in all) and a GPU's
 * driver uses one of them: the rest would only cost network time at a kernel's first use.
 * <p>
 * Kept, in each fatbin container of the image: machine code (ELF) of the GPU's major architecture at or
 * below its own, which is all the driver may pick, and the PTX of the highest architecture at or below the
 * GPU's, which the driver compiles when no machine code fits (and which the emulated GPU runs). A container
 * where nothing fits is kept whole, so that the server answers for it as the driver would.
 * <p>
 * Layout (little endian), containers back to back: a header (+0 u32 magic 0xBA55ED50, +6 u16 header size,
 * +8 u64 bytes of entries), then entries, each a header (+0 u16 kind: 1 PTX, 2 ELF; +4 u32 header size;
 * +8 u64 payload size; +28 u32 architecture, e.g. 90) and its payload. Entries are copied byte for byte.
 * <p>
 * Thread safety: stateless.
 */
final class FatbinTrimmer
{
    static final int FATBIN_MAGIC = 0xBA55ED50;
    private static final int KIND_PTX = 1;
    private static final int KIND_ELF = 2;
    private static final int CONTAINER_HEADER_MIN = 16;
    private static final int ENTRY_HEADER_MIN = 0x40;

    private FatbinTrimmer()
    {
    }

    /**
     * @param image        a module image: PTX text, a cubin or a fatbin.
     * @param architecture the GPU's compute capability as major * 10 + minor (90 for an H100 or H200).
     * @return the image with what the GPU cannot use left out, or the image itself when it is not a fatbin,
     * cannot be read as one, or holds nothing to leave out.
     */
    static byte[] forArchitecture(final byte[] image, final int architecture)
    {
        if (image == null || image.length < CONTAINER_HEADER_MIN || architecture <= 0)
        {
            return image;
        }
        final ByteBuffer in = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        if (in.getInt(0) != FATBIN_MAGIC)
        {
            return image;
        }
        final ByteBuffer out = ByteBuffer.allocate(image.length).order(ByteOrder.LITTLE_ENDIAN);
        int offset = 0;
        while (offset + CONTAINER_HEADER_MIN <= image.length && in.getInt(offset) == FATBIN_MAGIC)
        {
            final int headerSize = in.getShort(offset + 6) & 0xFFFF;
            final long entriesSize = in.getLong(offset + 8);
            final long end = offset + (long)headerSize + entriesSize;
            if (headerSize < CONTAINER_HEADER_MIN || entriesSize < 0 || end > image.length ||
                !copyContainer(image, in, offset, headerSize, (int)end, architecture, out))
            {
                return image;
            }
            offset = (int)end;
        }
        if (offset < image.length)
        {
            // Whatever follows the containers (padding) travels as it was.
            out.put(image, offset, image.length - offset);
        }
        if (out.position() == image.length)
        {
            return image;
        }
        final byte[] trimmed = new byte[out.position()];
        out.flip().get(trimmed);
        return trimmed;
    }

    /**
     * @return false when the container's entries cannot be walked.
     */
    private static boolean copyContainer(
        final byte[] image, final ByteBuffer in, final int offset, final int headerSize, final int end,
        final int architecture, final ByteBuffer out)
    {
        int bestPtx = -1;
        int bestPtxArchitecture = -1;
        boolean anyElf = false;
        for (int entry = offset + headerSize; entry + ENTRY_HEADER_MIN <= end; entry = entryEnd(in, entry))
        {
            final long next = entryEnd(in, entry);
            if (in.getInt(entry + 4) < ENTRY_HEADER_MIN || next < 0 || next > end)
            {
                return false;
            }
            final int kind = in.getShort(entry) & 0xFFFF;
            final int entryArchitecture = in.getInt(entry + 28);
            if (kind == KIND_PTX && entryArchitecture <= architecture && entryArchitecture > bestPtxArchitecture)
            {
                bestPtx = entry;
                bestPtxArchitecture = entryArchitecture;
            }
            anyElf |= kind == KIND_ELF && runsOn(entryArchitecture, architecture);
        }
        if (bestPtx < 0 && !anyElf)
        {
            out.put(image, offset, end - offset);
            return true;
        }
        final int headerAt = out.position();
        out.put(image, offset, headerSize);
        final int entriesAt = out.position();
        int entry = offset + headerSize;
        for (; entry + ENTRY_HEADER_MIN <= end; entry = entryEnd(in, entry))
        {
            final int kind = in.getShort(entry) & 0xFFFF;
            if (entry == bestPtx || (kind == KIND_ELF && runsOn(in.getInt(entry + 28), architecture)))
            {
                out.put(image, entry, entryEnd(in, entry) - entry);
            }
        }
        out.putLong(headerAt + 8, out.position() - entriesAt);
        return true;
    }

    /** Machine code runs on GPUs of its major architecture whose minor is the same or higher. */
    private static boolean runsOn(final int codeArchitecture, final int architecture)
    {
        return codeArchitecture / 10 == architecture / 10 && codeArchitecture <= architecture;
    }

    private static int entryEnd(final ByteBuffer in, final int entry)
    {
        final long end = entry + (long)in.getInt(entry + 4) + in.getLong(entry + 8);
        return end > Integer.MAX_VALUE || end < entry ? -1 : (int)end;
    }
}
