package dev.bitfusion.transport;

/**
 * What a {@code Synchronize} message waits for or asks about; each reply arrives only after every call
 * the session sent before it has executed, which is what makes asynchronous calls safe.
 */
public final class SyncKind
{
    /** cuCtxSynchronize: wait for all work of a context. */
    public static final int CONTEXT_SYNCHRONIZE = 1;
    /** cuStreamSynchronize. */
    public static final int STREAM_SYNCHRONIZE = 2;
    /** cuStreamQuery: CUDA_SUCCESS when done, CUDA_ERROR_NOT_READY otherwise. */
    public static final int STREAM_QUERY = 3;
    /** cuEventSynchronize. */
    public static final int EVENT_SYNCHRONIZE = 4;
    /** cuEventQuery. */
    public static final int EVENT_QUERY = 5;

    private SyncKind()
    {
    }
}
