package dev.bitfusion.cli;

/**
 * A server could not be probed for {@code bitfusion health}; the message becomes the FATAL line of its
 * section, so it says what failed and what to do, for a person.
 */
final class HealthProbeException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    HealthProbeException(final String message)
    {
        super(message);
    }
}
