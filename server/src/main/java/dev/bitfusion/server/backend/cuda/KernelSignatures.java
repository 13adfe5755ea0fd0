package dev.bitfusion.server.backend.cuda;

import dev.bitfusion.cuda.fatbin.FatbinContainer;
import dev.bitfusion.cuda.fatbin.FatbinFormatException;
import dev.bitfusion.cuda.fatbin.FatbinPayload;
import dev.bitfusion.cuda.fatbin.FatbinWrapper;
import dev.bitfusion.emulator.EmulatorException;
import dev.bitfusion.emulator.fatbin.FatbinReader;
import dev.bitfusion.emulator.ptx.PtxFunction;
import dev.bitfusion.emulator.ptx.PtxModule;
import dev.bitfusion.emulator.ptx.PtxParameterLayout;
import dev.bitfusion.emulator.ptx.PtxParser;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Kernel parameter layouts read from a module image. The client packs cuLaunchKernel's parameters by
 * these offsets, and JCuda 12.6 has no cuFuncGetParamInfo, so the server reads them from what it loads:
 * the PTX {@code .param} list (PTX text, or the PTX in a fatbin), else the {@code EIATTR_KPARAM_INFO}
 * records in a cubin's {@code .nv.info.<kernel>} sections.
 * <p>
 * Thread safety: immutable after construction.
 */
final class KernelSignatures
{
    private static final int ELF_MAGIC = 0x464C457F;
    private static final int EIFMT_NVAL = 1;
    private static final int EIFMT_BVAL = 2;
    private static final int EIFMT_HVAL = 3;
    private static final int EIFMT_SVAL = 4;
    private static final int EIATTR_KPARAM_INFO = 0x17;
    private static final String NV_INFO_PREFIX = ".nv.info.";

    /** Offsets and sizes of one kernel's parameters, in declaration order. */
    record Signature(int[] offsets, int[] sizes, int bufferSize)
    {
    }

    private static final byte[] VPRINTF_SYMBOL = "\0vprintf\0".getBytes(StandardCharsets.US_ASCII);

    private final Map<String, Signature> kernels;
    private final boolean usesPrintf;

    private KernelSignatures(final Map<String, Signature> kernels, final boolean usesPrintf)
    {
        this.kernels = kernels;
        this.usesPrintf = usesPrintf;
    }

    /**
     * @return whether a kernel of the image calls printf (it declares or imports vprintf).
     */
    boolean usesPrintf()
    {
        return usesPrintf;
    }

    /**
     * @param image a module image as the driver takes it (no fatbin wrapper).
     * @return the layouts it declares; empty when it carries neither PTX nor a readable cubin.
     */
    static KernelSignatures of(final byte[] image)
    {
        final Map<String, Signature> kernels = new HashMap<>();
        final boolean[] usesPrintf = new boolean[1];
        if (image.length >= 4)
        {
            final int magic = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
            if (magic == ELF_MAGIC)
            {
                readCubin(image, kernels, usesPrintf);
            }
            else if (magic == FatbinContainer.MAGIC)
            {
                readFatbin(image, kernels, usesPrintf);
            }
            else
            {
                readPtx(new String(image, StandardCharsets.UTF_8), kernels, usesPrintf);
            }
        }
        return new KernelSignatures(kernels, usesPrintf[0]);
    }

    /**
     * @param name the kernel's mangled name.
     * @return its layout, or null when the image does not say.
     */
    Signature kernel(final String name)
    {
        return kernels.get(name);
    }

    /**
     * @param image what the client sent: PTX, cubin, fatbin, or cudart's wrapper followed by the fatbin.
     * @return the image the driver takes: the fatbin without the wrapper, PTX NUL-terminated.
     */
    static byte[] driverImage(final byte[] image)
    {
        if (image.length < 4)
        {
            return image;
        }
        if (FatbinWrapper.isWrapper(image))
        {
            final byte[] fatbin = FatbinWrapper.fatbinAfter(image);
            return fatbin != null ? fatbin : image;
        }
        final int magic = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
        if (magic != ELF_MAGIC && magic != FatbinContainer.MAGIC && image[image.length - 1] != 0)
        {
            final byte[] terminated = new byte[image.length + 1];
            System.arraycopy(image, 0, terminated, 0, image.length);
            return terminated;
        }
        return image;
    }

    private static void readFatbin(final byte[] image, final Map<String, Signature> kernels, final boolean[] usesPrintf)
    {
        try
        {
            for (final String ptx : FatbinReader.ptxSources(image))
            {
                if (readPtx(ptx, kernels, usesPrintf))
                {
                    return;
                }
            }
        }
        catch (final EmulatorException ex)
        {
            // Machine code only: the cubins in it are read below.
        }
        readFatbinCubins(image, kernels, usesPrintf);
    }

    /** The cubin entries of a fatbin, compressed or not; one that cannot be read is passed over. */
    private static void readFatbinCubins(final byte[] image, final Map<String, Signature> kernels, final boolean[] usesPrintf)
    {
        try
        {
            FatbinContainer.forEachEntry(image, entry ->
            {
                if (!entry.isElf() || entry.payloadLength() < 4)
                {
                    return;
                }
                try
                {
                    final byte[] cubin = FatbinPayload.bytes(entry);
                    if (cubin.length >= 64)
                    {
                        readCubin(cubin, kernels, usesPrintf);
                    }
                }
                catch (final FatbinFormatException ex)
                {
                    // A corrupt entry: the others may still say what the kernels take.
                }
            });
        }
        catch (final FatbinFormatException ex)
        {
            // A truncated fatbin: keep what its readable entries said.
        }
    }

    private static boolean readPtx(final String ptx, final Map<String, Signature> kernels, final boolean[] usesPrintf)
    {
        usesPrintf[0] |= ptx.contains("vprintf");
        final PtxModule module;
        try
        {
            module = PtxParser.parse(ptx);
        }
        catch (final EmulatorException | RuntimeException ex)
        {
            return false;
        }
        for (final PtxFunction function : module.functions())
        {
            if (!function.entry())
            {
                continue;
            }
            final PtxParameterLayout layout = PtxParameterLayout.of(function);
            kernels.put(function.name(), new Signature(layout.offsets(), layout.sizes(), layout.bufferSize()));
        }
        return true;
    }

    private static void readCubin(final byte[] image, final Map<String, Signature> kernels, final boolean[] usesPrintf)
    {
        usesPrintf[0] |= contains(image, VPRINTF_SYMBOL);
        final ByteBuffer elf = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        if (image.length < 64 || image[4] != 2)
        {
            return;
        }
        final long sectionHeaders = elf.getLong(0x28);
        final int headerSize = elf.getShort(0x3A) & 0xFFFF;
        final int sectionCount = elf.getShort(0x3C) & 0xFFFF;
        final int namesIndex = elf.getShort(0x3E) & 0xFFFF;
        if (headerSize < 64 || sectionHeaders + (long)sectionCount * headerSize > image.length || namesIndex >= sectionCount)
        {
            return;
        }
        final long namesOffset = elf.getLong((int)(sectionHeaders + (long)namesIndex * headerSize) + 0x18);
        for (int i = 0; i < sectionCount; i++)
        {
            final int header = (int)(sectionHeaders + (long)i * headerSize);
            final String name = cString(image, namesOffset + (elf.getInt(header) & 0xFFFFFFFFL));
            if (name.startsWith(NV_INFO_PREFIX))
            {
                final long start = elf.getLong(header + 0x18);
                final long size = elf.getLong(header + 0x20);
                if (start >= 0 && size >= 0 && start + size <= image.length)
                {
                    final Signature signature = readKernelInfo(elf, (int)start, (int)(start + size));
                    if (signature != null)
                    {
                        kernels.put(name.substring(NV_INFO_PREFIX.length()), signature);
                    }
                }
            }
        }
    }

    private static boolean contains(final byte[] haystack, final byte[] needle)
    {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++)
        {
            for (int j = 0; j < needle.length; j++)
            {
                if (haystack[i + j] != needle[j])
                {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /** EIATTR records: u8 format, u8 attribute, then a value whose size the format gives. */
    private static Signature readKernelInfo(final ByteBuffer elf, final int start, final int end)
    {
        final Map<Integer, int[]> byOrdinal = new HashMap<>();
        int at = start;
        while (at + 2 <= end)
        {
            final int format = elf.get(at) & 0xFF;
            final int attribute = elf.get(at + 1) & 0xFF;
            at += 2;
            switch (format)
            {
                case EIFMT_NVAL -> at += 2;
                case EIFMT_BVAL -> at += 2;
                case EIFMT_HVAL -> at += 2;
                case EIFMT_SVAL ->
                {
                    final int length = elf.getShort(at) & 0xFFFF;
                    if (attribute == EIATTR_KPARAM_INFO && length >= 12 && at + 2 + 12 <= end)
                    {
                        final int ordinal = elf.getShort(at + 2 + 4) & 0xFFFF;
                        final int offset = elf.getShort(at + 2 + 6) & 0xFFFF;
                        final int size = (elf.getInt(at + 2 + 8) >>> 18) & 0x3FFF;
                        byOrdinal.put(ordinal, new int[]{ offset, size });
                    }
                    at += 2 + length;
                }
                default ->
                {
                    return null;
                }
            }
        }
        final int count = byOrdinal.size();
        final int[] offsets = new int[count];
        final int[] sizes = new int[count];
        int bufferSize = 0;
        for (int i = 0; i < count; i++)
        {
            final int[] param = byOrdinal.get(i);
            if (param == null)
            {
                return null;
            }
            offsets[i] = param[0];
            sizes[i] = param[1];
            bufferSize = Math.max(bufferSize, param[0] + param[1]);
        }
        return new Signature(offsets, sizes, bufferSize);
    }

    private static String cString(final byte[] image, final long offset)
    {
        if (offset < 0 || offset >= image.length)
        {
            return "";
        }
        int end = (int)offset;
        while (end < image.length && image[end] != 0)
        {
            end++;
        }
        return new String(image, (int)offset, end - (int)offset, StandardCharsets.UTF_8);
    }
}
