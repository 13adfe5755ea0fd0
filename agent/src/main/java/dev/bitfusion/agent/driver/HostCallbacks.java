package dev.bitfusion.agent.driver;

/**
 * Calls into the program's own host functions (cuLaunchHostFunc, cuStreamAddCallback), which only native
 * code can make: the bridge provides them. The driver decides when they run (in stream order, on the
 * calling thread, once the stream's earlier work is done); this only makes the call.
 * <p>
 * Thread safety: implementations are thread safe.
 */
public interface HostCallbacks
{
    /**
     * @param function a {@code CUhostFn}: {@code void (*)(void *userData)}.
     */
    void callHostFunction(long function, long userData);

    /**
     * @param callback a {@code CUstreamCallback}: {@code void (*)(CUstream, CUresult, void *userData)}.
     */
    void callStreamCallback(long callback, long stream, int status, long userData);
}
