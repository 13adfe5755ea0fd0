package dev.bitfusion.bridge;

import dev.bitfusion.agent.driver.HostCallbacks;

/**
 * The program's host functions, called through the natives of {@link DriverBridge}, which the bridge
 * registers when it starts the JVM: only native code can call a C function pointer.
 * <p>
 * Thread safety: thread safe; the call runs on the calling thread.
 */
final class NativeHostCallbacks implements HostCallbacks
{
    public void callHostFunction(final long function, final long userData)
    {
        DriverBridge.callHostFunction(function, userData);
    }

    public void callStreamCallback(final long callback, final long stream, final int status, final long userData)
    {
        DriverBridge.callStreamCallback(callback, stream, status, userData);
    }
}
