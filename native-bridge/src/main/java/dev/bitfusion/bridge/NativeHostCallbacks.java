package dev.bitfusion.bridge;

import dev.bitfusion.agent.driver.HostCallbacks;

/**
 * The program's host functions, called through natives the bridge registers when it starts the JVM: only
 * native code can call a C function pointer.
 * <p>
 * Thread safety: thread safe; the call runs on the calling thread.
 */
final class NativeHostCallbacks implements HostCallbacks
{
    public void callHostFunction(final long function, final long userData)
    {
        callHostFunction0(function, userData);
    }

    public void callStreamCallback(final long callback, final long stream, final int status, final long userData)
    {
        callStreamCallback0(callback, stream, status, userData);
    }

    private static native void callHostFunction0(long function, long userData);

    private static native void callStreamCallback0(long callback, long stream, int status, long userData);
}
