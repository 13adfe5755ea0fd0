package dev.bitfusion.server.backend;

/**
 * Out values of one backend call, reused for every call of a session to keep the hot path allocation free.
 * <p>
 * Thread safety: owned by one session's executor.
 */
public final class CallResult
{
    public long value1;
    public long value2;
    public String message;

    /**
     * @return this, emptied for the next call.
     */
    public CallResult reset()
    {
        value1 = 0;
        value2 = 0;
        message = null;
        return this;
    }
}
