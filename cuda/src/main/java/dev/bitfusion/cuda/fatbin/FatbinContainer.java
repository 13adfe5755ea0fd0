package dev.bitfusion.cuda.fatbin;

/**
 * Flyweight over one container of a fatbin, the format nvcc embeds in programs and cudart registers. An
 * image holds one or more containers back to back; each is a header and then its entries
 * ({@link FatbinEntry}).
 * <p>
 * Header layout (little endian):
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                        Magic 0xBA55ED50                       |
 *  +-------------------------------+-------------------------------+
 *  |          Version (1)          |      Header Length (16)       |
 *  +-------------------------------+-------------------------------+
 *  |                  Entries Length (the bytes after              |
 *  |                  the header that are entries)                 |
 *  +---------------------------------------------------------------+
 * </pre>
 * Walk an image with one container and one entry flyweight:
 * <pre>{@code
 * for (int at = 0; container.wrap(image, at); at = container.end())
 *     for (int e = container.entriesOffset(); entry.wrap(container, e); e = entry.end())
 *         ...
 * }</pre>
 * Thread safety: not thread-safe; a flyweight is re-wrapped by one thread at a time.
 */
public final class FatbinContainer
{
    /** Magic of a fatbin container header. */
    public static final int MAGIC = 0xBA55ED50;

    /** Where the header keeps the length of the entries (u64), for writers that cut entries out. */
    public static final int ENTRIES_LENGTH_OFFSET = 8;

    /** The shortest header the format allows. */
    public static final int HEADER_LENGTH_MIN = 16;

    private static final int HEADER_LENGTH_OFFSET = 6;

    private byte[] image;
    private int offset;
    private int headerLength;
    private int end;

    /** Visits one entry of an image; the flyweight is only valid during the call. */
    @FunctionalInterface
    public interface EntryHandler
    {
        /**
         * @param entry the entry, wrapped.
         * @throws FatbinFormatException to stop the walk, e.g. when a payload cannot be decompressed.
         */
        void onEntry(FatbinEntry entry) throws FatbinFormatException;
    }

    /**
     * @param image bytes that may be a fatbin.
     * @return whether they start with a container's magic.
     */
    public static boolean isFatbin(final byte[] image)
    {
        return image != null && image.length >= 4 && LittleEndian.i32(image, 0) == MAGIC;
    }

    /**
     * Visit every entry of the containers an image starts with, in order.
     *
     * @param image   the image.
     * @param handler called with each entry.
     * @return the offset just past the last container: 0 when the image does not start with one, less than
     * its length when other bytes (padding) follow the containers.
     * @throws FatbinFormatException when a container or entry runs past its bounds, or the handler throws.
     */
    public static int forEachEntry(final byte[] image, final EntryHandler handler) throws FatbinFormatException
    {
        final FatbinContainer container = new FatbinContainer();
        final FatbinEntry entry = new FatbinEntry();
        int at = 0;
        for (; container.wrap(image, at); at = container.end())
        {
            for (int e = container.entriesOffset(); entry.wrap(container, e); e = entry.end())
            {
                handler.onEntry(entry);
            }
        }
        return at;
    }

    /**
     * @param image  the image.
     * @param offset where a container may start.
     * @return true when a container starts there (this flyweight then describes it); false when the image
     * ends there or holds something else, which ends the containers.
     * @throws FatbinFormatException when the container's header is shorter than the format's or its entries
     *                               run past the image.
     */
    public boolean wrap(final byte[] image, final int offset) throws FatbinFormatException
    {
        if (offset < 0 || offset + HEADER_LENGTH_MIN > image.length || LittleEndian.i32(image, offset) != MAGIC)
        {
            return false;
        }
        final int headerLength = LittleEndian.u16(image, offset + HEADER_LENGTH_OFFSET);
        final long entriesLength = LittleEndian.i64(image, offset + ENTRIES_LENGTH_OFFSET);
        final long end = offset + (long)headerLength + entriesLength;
        if (headerLength < HEADER_LENGTH_MIN || entriesLength < 0 || end > image.length)
        {
            throw new FatbinFormatException("fatbin header at offset " + offset + " is truncated");
        }
        this.image = image;
        this.offset = offset;
        this.headerLength = headerLength;
        this.end = (int)end;
        return true;
    }

    /**
     * @return the image wrapped.
     */
    public byte[] image()
    {
        return image;
    }

    /**
     * @return where the container starts in the image.
     */
    public int offset()
    {
        return offset;
    }

    /**
     * @return the length of its header.
     */
    public int headerLength()
    {
        return headerLength;
    }

    /**
     * @return where its first entry starts.
     */
    public int entriesOffset()
    {
        return offset + headerLength;
    }

    /**
     * @return the offset just past its last entry, where the next container may start.
     */
    public int end()
    {
        return end;
    }
}
