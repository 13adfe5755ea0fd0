package dev.bitfusion.emulator.interp;

import java.util.function.Consumer;

/**
 * What every worker of one launch shares: the parameter buffer, the per-thread stack size, the printf
 * sink, and the first fault.
 * <p>
 * Thread safety: fields are written before workers start; {@link #fail(KernelFault)} and
 * {@link #print(String)} may be called from any worker.
 */
final class LaunchContext
{
    long parameterHost;
    int parameterBytes;
    int stackBytes;
    int gridX;
    int gridY;
    int gridZ;
    int blockX;
    int blockY;
    int blockZ;
    int dynamicSharedBytes;
    int dynamicSharedBase;
    int sharedBytes;
    Consumer<String> printfSink;
    volatile KernelFault fault;

    synchronized void fail(final KernelFault kernelFault)
    {
        if (fault == null)
        {
            fault = kernelFault;
        }
    }

    synchronized void print(final String text)
    {
        if (printfSink != null)
        {
            printfSink.accept(text);
        }
    }
}
