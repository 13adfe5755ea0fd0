package dev.bitfusion.cuda.fatbin;

import java.util.Arrays;

/**
 * cudart's fatbin wrapper ({@code __fatBinC_Wrapper_t}), what programs pass to
 * {@code __cudaRegisterFatBinary}: a magic, a version and a pointer to the fatbin. A client that sends the
 * wrapper sends the fatbin's bytes right after it (at an 8-byte aligned offset within the first 64 bytes).
 * <pre>
 *   +0 u32 magic 0x466243B1   +4 u32 version   +8 u64 pointer to the fatbin   +16 ...
 * </pre>
 * Thread safety: stateless.
 */
public final class FatbinWrapper
{
    /** Magic of cudart's fatbin wrapper. */
    public static final int MAGIC = 0x466243B1;

    private static final int LENGTH = 16;
    private static final int FATBIN_SEARCH_END = 64;

    private FatbinWrapper()
    {
    }

    /**
     * @param image bytes that may start with the wrapper.
     * @return whether they start with its magic.
     */
    public static boolean isWrapper(final byte[] image)
    {
        return image != null && image.length >= 4 && LittleEndian.i32(image, 0) == MAGIC;
    }

    /**
     * @param image bytes that start with the wrapper.
     * @return the fatbin that follows it, from its container's magic to the end; null when none follows.
     */
    public static byte[] fatbinAfter(final byte[] image)
    {
        for (int offset = LENGTH; offset + 4 <= image.length && offset <= FATBIN_SEARCH_END; offset += 8)
        {
            if (LittleEndian.i32(image, offset) == FatbinContainer.MAGIC)
            {
                return Arrays.copyOfRange(image, offset, image.length);
            }
        }
        return null;
    }
}
