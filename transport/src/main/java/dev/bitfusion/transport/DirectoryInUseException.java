package dev.bitfusion.transport;

/**
 * An Aeron directory that a live process owns: this process must not start a driver in it.
 */
public final class DirectoryInUseException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    public DirectoryInUseException(final String message)
    {
        super(message);
    }

    public DirectoryInUseException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
