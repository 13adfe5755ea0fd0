package dev.bitfusion.cuda.fatbin;

/**
 * Flyweight over one entry of a fatbin container: PTX text or a cubin (ELF machine code) for one
 * architecture, maybe compressed ({@link FatbinPayload} decompresses it).
 * <p>
 * Entry layout (little endian), a header and then the payload (padded):
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-------------------------------+-------------------------------+
 *  |     Kind (1 PTX, 2 ELF)       |        Entry Version          |  +0
 *  +-------------------------------+-------------------------------+
 *  |                 Header Length (at least 0x40)                 |  +4
 *  +---------------------------------------------------------------+
 *  |                 Payload Length (u64, padded)                  |  +8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |            Compressed Length (0 when not compressed)          |  +16
 *  +---------------------------------------------------------------+
 *  |                              ...                              |  +20
 *  +---------------------------------------------------------------+
 *  |              PTX or ELF Version (minor, major)                |  +24
 *  +---------------------------------------------------------------+
 *  |                 Architecture (sm, e.g. 90)                    |  +28
 *  +---------------------------------------------------------------+
 *  |                              ...                              |  +32
 *  +---------------------------------------------------------------+
 *  |               Flags (u64; 0x2000: LZ4-compressed)             |  +40
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                              ...                              |  +48
 *  +---------------------------------------------------------------+
 *  |         Uncompressed Length (u64, when compressed)            |  +56
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                     Payload (zstd frames                      |
 *  |                     start with 28 B5 2F FD)                   |
 * </pre>
 * Thread safety: not thread-safe; a flyweight is re-wrapped by one thread at a time.
 */
public final class FatbinEntry
{
    /** Kind of an entry holding PTX text. */
    public static final int KIND_PTX = 1;

    /** Kind of an entry holding a cubin (ELF machine code). */
    public static final int KIND_ELF = 2;

    /** The shortest entry header the format allows. */
    public static final int HEADER_LENGTH_MIN = 0x40;

    /** Flag of an entry whose payload is one raw LZ4 block. */
    public static final long FLAG_COMPRESSED_LZ4 = 0x2000;

    private static final int ZSTD_MAGIC = 0xFD2FB528;

    private byte[] image;
    private int offset;
    private int headerLength;
    private int payloadLength;

    /**
     * @param container the container, wrapped.
     * @param offset    where an entry may start in it.
     * @return true when an entry starts there (this flyweight then describes it); false when too few of the
     * container's bytes are left for one, which ends its entries.
     * @throws FatbinFormatException when the entry's header is shorter than the format's or its payload runs
     *                               past the container.
     */
    public boolean wrap(final FatbinContainer container, final int offset) throws FatbinFormatException
    {
        final byte[] image = container.image();
        if (offset < container.entriesOffset() || offset + HEADER_LENGTH_MIN > container.end())
        {
            return false;
        }
        final int headerLength = LittleEndian.i32(image, offset + 4);
        final long payloadLength = LittleEndian.i64(image, offset + 8);
        if (headerLength < HEADER_LENGTH_MIN || payloadLength < 0 ||
            offset + (long)headerLength + payloadLength > container.end())
        {
            throw new FatbinFormatException("fatbin entry at offset " + offset + " is truncated");
        }
        this.image = image;
        this.offset = offset;
        this.headerLength = headerLength;
        this.payloadLength = (int)payloadLength;
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
     * @return where the entry (its header) starts in the image.
     */
    public int offset()
    {
        return offset;
    }

    /**
     * @return the offset just past its payload, where the next entry may start.
     */
    public int end()
    {
        return payloadOffset() + payloadLength;
    }

    /**
     * @return {@link #KIND_PTX}, {@link #KIND_ELF} or a kind this reader does not know.
     */
    public int kind()
    {
        return LittleEndian.u16(image, offset);
    }

    /**
     * @return whether it holds PTX text.
     */
    public boolean isPtx()
    {
        return kind() == KIND_PTX;
    }

    /**
     * @return whether it holds a cubin.
     */
    public boolean isElf()
    {
        return kind() == KIND_ELF;
    }

    /**
     * @return the architecture it was built for as major * 10 + minor, e.g. 90 for sm_90 or compute_90.
     */
    public int architecture()
    {
        return LittleEndian.i32(image, offset + 28);
    }

    /**
     * @return its flags, e.g. {@link #FLAG_COMPRESSED_LZ4}.
     */
    public long flags()
    {
        return LittleEndian.i64(image, offset + 40);
    }

    /**
     * @return the length of the compressed data in the payload, 0 when the header does not say.
     */
    public int compressedLength()
    {
        return LittleEndian.i32(image, offset + 16);
    }

    /**
     * @return the length of the payload once decompressed, 0 when the header does not say.
     */
    public long uncompressedLength()
    {
        return LittleEndian.i64(image, offset + 56);
    }

    /**
     * @return where the payload starts in the image.
     */
    public int payloadOffset()
    {
        return offset + headerLength;
    }

    /**
     * @return the length of the payload in the image, padding included.
     */
    public int payloadLength()
    {
        return payloadLength;
    }

    /**
     * @return whether the payload is a zstd frame (CUDA 13 compresses PTX so), whatever the flags say.
     */
    public boolean isZstd()
    {
        return payloadLength >= 4 && LittleEndian.i32(image, payloadOffset()) == ZSTD_MAGIC;
    }

    /**
     * @return whether the payload is a raw LZ4 block (fatbins built for speed, and by CUDA 11 and 12).
     */
    public boolean isLz4()
    {
        return !isZstd() && (flags() & FLAG_COMPRESSED_LZ4) != 0;
    }
}
