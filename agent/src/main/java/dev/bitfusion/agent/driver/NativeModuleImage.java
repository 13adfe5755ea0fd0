package dev.bitfusion.agent.driver;

import org.agrona.UnsafeApi;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A module image kept outside the Java heap. A module's image must outlive the call that loaded it (it is
 * loaded again after a context reset and on each further GPU), and programs load hundreds of MiB of them:
 * on the heap they would make every collection copy them, for seconds in a small process.
 * <p>
 * Counted references: whoever makes one holds a reference (let go by {@link #close()}), each map entry
 * holding it another ({@link #retain()}, {@link #release()}); the memory is freed when the last goes.
 * <p>
 * Thread safety: thread safe; {@link #bytes()} must not be called after the last release.
 */
public final class NativeModuleImage implements ModuleImage
{
    private final long address;
    private final int length;
    private final AtomicInteger references = new AtomicInteger(1);

    private NativeModuleImage(final long address, final int length)
    {
        this.address = address;
        this.length = length;
    }

    /**
     * @param source where the image lies, in the program's memory.
     * @param length its size in bytes.
     * @return a copy holding one reference, the caller's.
     */
    public static NativeModuleImage copyOf(final long source, final int length)
    {
        if (length <= 0)
        {
            throw new IllegalArgumentException("image of " + length + " bytes");
        }
        final long address = UnsafeApi.allocateMemory(length);
        UnsafeApi.copyMemory(source, address, length);
        return new NativeModuleImage(address, length);
    }

    public byte[] bytes()
    {
        final byte[] copy = new byte[length];
        UnsafeApi.copyMemory(null, address, copy, UnsafeApi.arrayBaseOffset(byte[].class), length);
        return copy;
    }

    public NativeModuleImage retain()
    {
        if (references.getAndIncrement() <= 0)
        {
            throw new IllegalStateException("image retained after it was freed");
        }
        return this;
    }

    public void release()
    {
        if (references.decrementAndGet() == 0)
        {
            UnsafeApi.freeMemory(address);
        }
    }
}
