package dev.bitfusion.agent.driver;

import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Native memory for Java callers of the driver API, which takes host memory and out parameters by address
 * as a C program passes them: a copy's host side, a kernel's parameters, where cuMemAlloc writes its
 * pointer. Freed on close; zeroed when allocated.
 * <p>
 * Thread safety: as an {@link UnsafeBuffer}: one writer at a time.
 */
public final class NativeBuffer extends UnsafeBuffer implements AutoCloseable
{
    private final long allocation;
    private boolean freed;

    private NativeBuffer(final long allocation, final int bytes)
    {
        super(allocation, bytes);
        this.allocation = allocation;
    }

    /**
     * @param bytes how much memory; at least one byte is allocated.
     * @return zeroed native memory.
     */
    public static NativeBuffer allocate(final int bytes)
    {
        final int size = Math.max(1, bytes);
        final long address = UnsafeApi.allocateMemory(size);
        UnsafeApi.setMemory(address, size, (byte)0);
        return new NativeBuffer(address, size);
    }

    /**
     * @return the memory's first address, to pass to the driver API.
     */
    public long address()
    {
        return addressOffset();
    }

    /**
     * @return the address of the byte at {@code offset}.
     */
    public long address(final int offset)
    {
        return addressOffset() + offset;
    }

    public void close()
    {
        if (!freed)
        {
            freed = true;
            UnsafeApi.freeMemory(allocation);
        }
    }
}
