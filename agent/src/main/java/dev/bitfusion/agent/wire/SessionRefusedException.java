package dev.bitfusion.agent.wire;

/**
 * A session could not be opened: refused by the server (with its reason) or no answer.
 */
public class SessionRefusedException extends RuntimeException
{
    public SessionRefusedException(final String message)
    {
        super(message);
    }
}
