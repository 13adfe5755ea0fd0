package dev.bitfusion.emulator.corpus;

import dev.bitfusion.emulator.EmulatedFunction;
import org.agrona.concurrent.UnsafeBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Packs a kernel's arguments the way cuLaunchKernel's caller would, at the offsets the loaded entry
 * reports, checking each value's width against the declared {@code .param} size.
 */
final class KernelParameters
{
    private final EmulatedFunction function;
    private final UnsafeBuffer buffer;
    private final int offset;

    /**
     * @param function the entry whose layout to follow.
     * @param offset   where the packed parameters start in the buffer, so that launches with a nonzero
     *                 parameters offset are exercised too.
     */
    KernelParameters(final EmulatedFunction function, final int offset)
    {
        this.function = function;
        this.offset = offset;
        this.buffer = new UnsafeBuffer(new byte[offset + Math.max(function.parameterBufferSize(), 1) + 16]);
        buffer.setMemory(0, buffer.capacity(), (byte)0x5a);
    }

    KernelParameters(final EmulatedFunction function)
    {
        this(function, 0);
    }

    UnsafeBuffer buffer()
    {
        return buffer;
    }

    int offset()
    {
        return offset;
    }

    KernelParameters pointer(final int index, final long deviceAddress)
    {
        return i64(index, deviceAddress);
    }

    KernelParameters i64(final int index, final long value)
    {
        buffer.putLong(at(index, 8), value);
        return this;
    }

    KernelParameters i32(final int index, final int value)
    {
        buffer.putInt(at(index, 4), value);
        return this;
    }

    KernelParameters f32(final int index, final float value)
    {
        buffer.putFloat(at(index, 4), value);
        return this;
    }

    KernelParameters i8(final int index, final byte value)
    {
        buffer.putByte(at(index, 1), value);
        return this;
    }

    /**
     * @return where a by-value struct parameter of {@code size} bytes starts in {@link #buffer()}.
     */
    int struct(final int index, final int size)
    {
        final int at = at(index, size);
        buffer.setMemory(at, size, (byte)0);
        return at;
    }

    private int at(final int index, final int size)
    {
        assertEquals(size, function.parameterSize(index), function.name() + " parameter " + index + " size");
        return offset + function.parameterOffset(index);
    }
}
