package dev.bitfusion.agent.driver;

import org.agrona.UnsafeApi;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The program's own memory, as the driver API reaches it: out parameters written at the addresses the
 * program passed, structs and arrays read from them, C strings both ways. Addresses come from the program
 * (through the bridge) or from Java callers' native buffers; the driver calls check them for NULL as the
 * driver does before they get here.
 * <p>
 * Thread safety: stateless but for the strings handed out, which are kept for the process's life.
 */
final class NativeMemory
{
    /** Strings returned to the program (function names), kept as the driver keeps its own constant strings. */
    private static final Map<String, Long> KEPT_STRINGS = new ConcurrentHashMap<>();

    private NativeMemory()
    {
    }

    static int getInt(final long address)
    {
        return UnsafeApi.getInt(address);
    }

    static long getLong(final long address)
    {
        return UnsafeApi.getLong(address);
    }

    static void putInt(final long address, final int value)
    {
        UnsafeApi.putInt(address, value);
    }

    static void putLong(final long address, final long value)
    {
        UnsafeApi.putLong(address, value);
    }

    static void putFloat(final long address, final float value)
    {
        UnsafeApi.putFloat(address, value);
    }

    /** An optional out parameter: written when the program passed somewhere to write it. */
    static void putLongIfWanted(final long address, final long value)
    {
        if (address != 0)
        {
            UnsafeApi.putLong(address, value);
        }
    }

    static void putIntIfWanted(final long address, final int value)
    {
        if (address != 0)
        {
            UnsafeApi.putInt(address, value);
        }
    }

    static void zero(final long address, final long bytes)
    {
        UnsafeApi.setMemory(address, bytes, (byte)0);
    }

    static void copy(final long from, final long to, final long bytes)
    {
        UnsafeApi.copyMemory(from, to, bytes);
    }

    /**
     * @return the NUL-terminated UTF-8 string at the address.
     */
    static String cString(final long address)
    {
        int length = 0;
        while (UnsafeApi.getByte(address + length) != 0)
        {
            length++;
        }
        final byte[] bytes = new byte[length];
        UnsafeApi.copyMemory(null, address, bytes, UnsafeApi.arrayBaseOffset(byte[].class), length);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /**
     * Write a string into a buffer the program gave, cut to fit with its NUL, as cuDeviceGetName does.
     */
    static void putCString(final long address, final int capacity, final String text)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        final int copied = Math.min(bytes.length, capacity - 1);
        UnsafeApi.copyMemory(bytes, UnsafeApi.arrayBaseOffset(byte[].class), null, address, copied);
        UnsafeApi.putByte(address + copied, (byte)0);
    }

    /**
     * @return a NUL-terminated copy of the string in native memory that lives as long as the process.
     */
    static long keptCString(final String text)
    {
        return KEPT_STRINGS.computeIfAbsent(text, NativeMemory::allocateCString);
    }

    private static long allocateCString(final String text)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        final long address = UnsafeApi.allocateMemory(bytes.length + 1);
        UnsafeApi.copyMemory(bytes, UnsafeApi.arrayBaseOffset(byte[].class), null, address, bytes.length);
        UnsafeApi.putByte(address + bytes.length, (byte)0);
        return address;
    }
}
