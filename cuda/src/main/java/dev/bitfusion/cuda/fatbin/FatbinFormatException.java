package dev.bitfusion.cuda.fatbin;

/**
 * A fatbin whose headers or payloads cannot be read: a size that runs past its container, a header
 * shorter than the format's, a compressed entry that does not decompress. The message names what and where.
 */
public final class FatbinFormatException extends Exception
{
    /**
     * @param message what is wrong, and at which offset, for a person.
     */
    public FatbinFormatException(final String message)
    {
        super(message);
    }
}
