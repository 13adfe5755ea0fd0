package dev.bitfusion.emulator;

import dev.bitfusion.cuda.fatbin.FatbinContainer;
import dev.bitfusion.cuda.fatbin.FatbinWrapper;
import dev.bitfusion.emulator.fatbin.FatbinReader;
import dev.bitfusion.emulator.interp.ModuleLoader;
import dev.bitfusion.emulator.memory.DeviceMemory;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_INVALID_IMAGE;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_NO_BINARY_FOR_GPU;

/**
 * Entry point of the emulated GPU: turns what nvcc emits (PTX text, fatbins, cudart's fatbin wrapper)
 * into modules whose kernels run on the CPU.
 * <p>
 * Thread safety: stateless; loads may run concurrently for different tenants.
 */
public final class Emulator
{
    private Emulator()
    {
    }

    /**
     * Load a module image into a tenant's memory, decoding every instruction up front.
     *
     * @param image  PTX text (NUL-terminated or not), a fatbin (magic 0xBA55ED50) or a buffer that starts
     *               with cudart's fatbin wrapper (magic 0x466243B1) followed by the fatbin.
     * @param memory the tenant's device memory, where the module's globals are allocated.
     * @return the loaded module.
     * @throws EmulatorException with 200 (INVALID_IMAGE), 209 (NO_BINARY_FOR_GPU), 218 (INVALID_PTX) or
     *                           801 (NOT_SUPPORTED) when the image cannot be loaded.
     */
    public static EmulatedModule load(final byte[] image, final DeviceMemory memory) throws EmulatorException
    {
        if (image == null || image.length < 4)
        {
            throw new EmulatorException(CUDA_ERROR_INVALID_IMAGE, "module image is empty");
        }
        if (FatbinContainer.isFatbin(image))
        {
            return loadFatbin(image, memory);
        }
        if (FatbinWrapper.isWrapper(image))
        {
            final byte[] fatbin = FatbinWrapper.fatbinAfter(image);
            if (fatbin == null)
            {
                throw new EmulatorException(CUDA_ERROR_INVALID_IMAGE, "fatbin wrapper without the fatbin it points to; " +
                    "send the fatbin bytes");
            }
            return loadFatbin(fatbin, memory);
        }
        if (image[0] == 0x7F && image[1] == 'E' && image[2] == 'L' && image[3] == 'F')
        {
            throw new EmulatorException(CUDA_ERROR_NO_BINARY_FOR_GPU,
                "the image is a cubin (ELF machine code" + elfArch(image) +
                "); the emulated GPU runs PTX only: build with -gencode arch=compute_XX,code=compute_XX");
        }
        int length = 0;
        while (length < image.length && image[length] != 0)
        {
            length++;
        }
        final String text = new String(image, 0, length, StandardCharsets.UTF_8);
        if (!text.contains(".version"))
        {
            throw new EmulatorException(CUDA_ERROR_INVALID_IMAGE, "not a module image: neither PTX, a fatbin nor a cubin");
        }
        return ModuleLoader.load(text, memory);
    }

    private static EmulatedModule loadFatbin(final byte[] fatbin, final DeviceMemory memory) throws EmulatorException
    {
        final List<String> sources = FatbinReader.ptxSources(fatbin);
        EmulatorException firstFailure = null;
        for (final String source : sources)
        {
            try
            {
                return ModuleLoader.load(source, memory);
            }
            catch (final EmulatorException ex)
            {
                if (firstFailure == null)
                {
                    firstFailure = ex;
                }
            }
        }
        throw firstFailure;
    }

    private static String elfArch(final byte[] image)
    {
        if (image.length < 52)
        {
            return "";
        }
        final int flags = littleEndianInt(image, 48);
        final int arch = (flags >>> 8) & 0xFF;
        return arch > 0 ? " for sm_" + arch : "";
    }

    private static int littleEndianInt(final byte[] bytes, final int offset)
    {
        return (bytes[offset] & 0xFF) | (bytes[offset + 1] & 0xFF) << 8 | (bytes[offset + 2] & 0xFF) << 16 |
            (bytes[offset + 3] & 0xFF) << 24;
    }
}
