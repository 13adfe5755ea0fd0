package dev.bitfusion.agent.wire;

/**
 * A server answered a query and refused it (no token, a wrong one, a stale one), as opposed to not answering.
 */
public final class QueryRefusedException extends SessionRefusedException
{
    public QueryRefusedException(final String message)
    {
        super(message);
    }
}
