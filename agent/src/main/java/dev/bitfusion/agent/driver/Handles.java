package dev.bitfusion.agent.driver;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Client-chosen handles: streams, events, contexts, modules and functions are named here, so creating
 * one needs no round trip. A handle carries its GPU in the top bits and a sequence below; functions use a
 * dense sequence of their own, which indexes their parameter layouts.
 * <p>
 * Thread safety: thread safe.
 */
final class Handles
{
    static final int DEVICE_SHIFT = 48;
    static final long SEQUENCE_MASK = (1L << DEVICE_SHIFT) - 1;
    static final long FIRST_HANDLE = 0x1000;

    private final AtomicLong nextHandle = new AtomicLong(FIRST_HANDLE);
    private final AtomicInteger nextFunctionIndex = new AtomicInteger();

    /**
     * @return a fresh handle on the GPU.
     */
    long newHandle(final int device)
    {
        return ((long)device << DEVICE_SHIFT) | nextHandle.getAndIncrement();
    }

    /**
     * @return the index of a fresh function: its handle on any GPU is {@link #functionHandle}.
     */
    int newFunctionIndex()
    {
        return nextFunctionIndex.getAndIncrement();
    }

    static long functionHandle(final int device, final int index)
    {
        return ((long)device << DEVICE_SHIFT) | (FIRST_HANDLE + index);
    }

    static long functionIndex(final long function)
    {
        return (function & SEQUENCE_MASK) - FIRST_HANDLE;
    }

    static int deviceOf(final long handle)
    {
        return (int)(handle >>> DEVICE_SHIFT);
    }

    /**
     * @return whether the value can be a handle chosen here at all.
     */
    static boolean isHandle(final long value)
    {
        return (value & SEQUENCE_MASK) >= FIRST_HANDLE;
    }
}
