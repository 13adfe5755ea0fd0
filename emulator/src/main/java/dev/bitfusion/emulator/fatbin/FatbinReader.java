package dev.bitfusion.emulator.fatbin;

import dev.bitfusion.cuda.fatbin.FatbinContainer;
import dev.bitfusion.cuda.fatbin.FatbinFormatException;
import dev.bitfusion.cuda.fatbin.FatbinPayload;
import dev.bitfusion.emulator.EmulatorException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_INVALID_IMAGE;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_NO_BINARY_FOR_GPU;

/**
 * Reads the PTX the emulated GPU runs out of a fatbin image, the container nvcc embeds in programs and
 * cudart registers (walked and decompressed by the cuda module's {@link FatbinContainer}).
 * <p>
 * Thread safety: stateless.
 */
public final class FatbinReader
{
    /** One PTX text and the architecture it was written for. */
    private record Ptx(int architecture, String text)
    {
    }

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
        final List<Ptx> sources = new ArrayList<>();
        final TreeSet<Integer> elfArchs = new TreeSet<>();
        final int end;
        try
        {
            end = FatbinContainer.forEachEntry(image, entry ->
            {
                if (entry.isPtx())
                {
                    sources.add(new Ptx(entry.architecture(), FatbinPayload.ptx(entry)));
                }
                else if (entry.isElf())
                {
                    elfArchs.add(entry.architecture());
                }
            });
        }
        catch (final FatbinFormatException ex)
        {
            throw new EmulatorException(CUDA_ERROR_INVALID_IMAGE, ex.getMessage());
        }
        if (end == 0)
        {
            throw new EmulatorException(CUDA_ERROR_INVALID_IMAGE, "not a fatbin: bad magic");
        }
        if (sources.isEmpty())
        {
            final StringBuilder archs = new StringBuilder();
            for (final int arch : elfArchs)
            {
                archs.append(archs.length() == 0 ? "" : ", ").append("sm_").append(arch);
            }
            throw new EmulatorException(CUDA_ERROR_NO_BINARY_FOR_GPU, "the fatbin holds no PTX, only machine code for " +
                (archs.length() == 0 ? "no architecture" : archs) + "; rebuild with PTX (e.g. -gencode " +
                "arch=compute_75,code=compute_75) to run on the emulated GPU");
        }
        // A stable sort: PTX of one architecture keeps the order the fatbin gives it.
        sources.sort(Comparator.comparingInt(Ptx::architecture).reversed());
        final List<String> sorted = new ArrayList<>(sources.size());
        sources.forEach(ptx -> sorted.add(ptx.text()));
        return sorted;
    }
}
