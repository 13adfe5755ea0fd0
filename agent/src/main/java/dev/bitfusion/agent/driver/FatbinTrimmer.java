package dev.bitfusion.agent.driver;

import dev.bitfusion.cuda.fatbin.FatbinContainer;
import dev.bitfusion.cuda.fatbin.FatbinEntry;
import dev.bitfusion.cuda.fatbin.FatbinFormatException;

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
 * where nothing fits is kept whole, so that the server answers for it as the driver would. Entries are
 * copied byte for byte, compressed or not (the layout is {@link FatbinContainer}'s and {@link FatbinEntry}'s).
 * <p>
 * Thread safety: stateless.
 */
final class FatbinTrimmer
{
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
        if (architecture <= 0 || !FatbinContainer.isFatbin(image))
        {
            return image;
        }
        final FatbinContainer container = new FatbinContainer();
        final FatbinEntry entry = new FatbinEntry();
        final ByteBuffer out = ByteBuffer.allocate(image.length).order(ByteOrder.LITTLE_ENDIAN);
        int offset = 0;
        try
        {
            for (; container.wrap(image, offset); offset = container.end())
            {
                copyContainer(container, entry, architecture, out);
            }
        }
        catch (final FatbinFormatException ex)
        {
            return image;
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

    private static void copyContainer(
        final FatbinContainer container, final FatbinEntry entry, final int architecture, final ByteBuffer out)
        throws FatbinFormatException
    {
        final byte[] image = container.image();
        int bestPtx = -1;
        int bestPtxArchitecture = -1;
        boolean anyElf = false;
        for (int at = container.entriesOffset(); entry.wrap(container, at); at = entry.end())
        {
            final int entryArchitecture = entry.architecture();
            if (entry.isPtx() && entryArchitecture <= architecture && entryArchitecture > bestPtxArchitecture)
            {
                bestPtx = at;
                bestPtxArchitecture = entryArchitecture;
            }
            anyElf |= entry.isElf() && runsOn(entryArchitecture, architecture);
        }
        if (bestPtx < 0 && !anyElf)
        {
            out.put(image, container.offset(), container.end() - container.offset());
            return;
        }
        final int headerAt = out.position();
        out.put(image, container.offset(), container.headerLength());
        final int entriesAt = out.position();
        for (int at = container.entriesOffset(); entry.wrap(container, at); at = entry.end())
        {
            if (at == bestPtx || (entry.isElf() && runsOn(entry.architecture(), architecture)))
            {
                out.put(image, at, entry.end() - at);
            }
        }
        out.putLong(headerAt + FatbinContainer.ENTRIES_LENGTH_OFFSET, out.position() - entriesAt);
    }

    /** Machine code runs on GPUs of its major architecture whose minor is the same or higher. */
    private static boolean runsOn(final int codeArchitecture, final int architecture)
    {
        return codeArchitecture / 10 == architecture / 10 && codeArchitecture <= architecture;
    }
}
