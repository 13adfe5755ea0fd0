package dev.bitfusion.agent.driver;

import org.agrona.UnsafeApi;

/**
 * Where a module image given by address alone starts and how long it is: the driver API passes images as
 * bare pointers. Fatbins and ELF cubins say their length in their headers; a fatbin wrapper (as nvcc
 * embeds one) points at its fatbin; anything else is PTX text, NUL-terminated.
 *
 * @param address the image's first byte (past a wrapper).
 * @param bytes   its length, the terminating NUL of PTX included.
 */
record ImageExtent(long address, long bytes)
{
    private static final int FATBIN_WRAPPER_MAGIC = 0x466243b1;
    private static final int FATBIN_MAGIC = 0xba55ed50;
    private static final int ELF_MAGIC = 0x464c457f;
    private static final int WRAPPER_DATA_OFFSET = 8;
    private static final int FATBIN_HEADER_SIZE_OFFSET = 6;
    private static final int FATBIN_FAT_SIZE_OFFSET = 8;
    private static final int ELF_PROGRAM_HEADERS_OFFSET = 0x20;
    private static final int ELF_SECTION_HEADERS_OFFSET = 0x28;
    private static final int ELF_PROGRAM_HEADER_SIZE_OFFSET = 0x36;
    private static final int ELF_PROGRAM_HEADER_COUNT_OFFSET = 0x38;
    private static final int ELF_SECTION_HEADER_SIZE_OFFSET = 0x3a;
    private static final int ELF_SECTION_HEADER_COUNT_OFFSET = 0x3c;

    /**
     * @return whether an image read whole (from a file) is a fatbin or a cubin rather than PTX text.
     */
    static boolean isBinary(final byte[] image)
    {
        if (image.length < Integer.BYTES)
        {
            return false;
        }
        final int magic = (image[0] & 0xff) | (image[1] & 0xff) << 8 | (image[2] & 0xff) << 16 | (image[3] & 0xff) << 24;
        return magic == FATBIN_WRAPPER_MAGIC || magic == FATBIN_MAGIC || magic == ELF_MAGIC;
    }

    /**
     * @param image the address the program passed.
     */
    static ImageExtent of(final long image)
    {
        final int magic = UnsafeApi.getInt(image);
        if (magic == FATBIN_WRAPPER_MAGIC)
        {
            return of(UnsafeApi.getLong(image + WRAPPER_DATA_OFFSET));
        }
        if (magic == FATBIN_MAGIC)
        {
            final int headerSize = UnsafeApi.getShort(image + FATBIN_HEADER_SIZE_OFFSET) & 0xffff;
            return new ImageExtent(image, headerSize + UnsafeApi.getLong(image + FATBIN_FAT_SIZE_OFFSET));
        }
        if (magic == ELF_MAGIC)
        {
            final long sections = UnsafeApi.getLong(image + ELF_SECTION_HEADERS_OFFSET) +
                (long)(UnsafeApi.getShort(image + ELF_SECTION_HEADER_SIZE_OFFSET) & 0xffff) *
                (UnsafeApi.getShort(image + ELF_SECTION_HEADER_COUNT_OFFSET) & 0xffff);
            final long programs = UnsafeApi.getLong(image + ELF_PROGRAM_HEADERS_OFFSET) +
                (long)(UnsafeApi.getShort(image + ELF_PROGRAM_HEADER_SIZE_OFFSET) & 0xffff) *
                (UnsafeApi.getShort(image + ELF_PROGRAM_HEADER_COUNT_OFFSET) & 0xffff);
            return new ImageExtent(image, Math.max(sections, programs));
        }
        long length = 0;
        while (UnsafeApi.getByte(image + length) != 0)
        {
            length++;
        }
        return new ImageExtent(image, length + 1);
    }
}
