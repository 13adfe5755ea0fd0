package dev.bitfusion.cuda.fatbin;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Little-endian reads from a byte array without wrapping it in a buffer, for the flyweights' accessors.
 * <p>
 * Thread safety: stateless.
 */
final class LittleEndian
{
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private LittleEndian()
    {
    }

    static int u16(final byte[] bytes, final int index)
    {
        return (bytes[index] & 0xFF) | (bytes[index + 1] & 0xFF) << 8;
    }

    static int i32(final byte[] bytes, final int index)
    {
        return (int)INT.get(bytes, index);
    }

    static long i64(final byte[] bytes, final int index)
    {
        return (long)LONG.get(bytes, index);
    }
}
