package dev.bitfusion.emulator.interp;

import org.agrona.UnsafeApi;

/**
 * Formats a device printf: the C format string with the argument buffer nvcc packs for {@code vprintf}
 * (each argument aligned to its own size; float arguments promoted to double; pointers 8 bytes).
 * <p>
 * Thread safety: stateless.
 */
final class PrintfFormatter
{
    private PrintfFormatter()
    {
    }

    static String format(final String format, final Interpreter interpreter, final ThreadState t, final long arguments)
    {
        final StringBuilder out = new StringBuilder(format.length() + 16);
        long cursor = arguments;
        int i = 0;
        final int length = format.length();
        while (i < length)
        {
            final char c = format.charAt(i++);
            if (c != '%')
            {
                out.append(c);
                continue;
            }
            if (i < length && format.charAt(i) == '%')
            {
                out.append('%');
                i++;
                continue;
            }
            final int specStart = i - 1;
            while (i < length && "-+ #0".indexOf(format.charAt(i)) >= 0)
            {
                i++;
            }
            while (i < length && (Character.isDigit(format.charAt(i)) || format.charAt(i) == '.'))
            {
                i++;
            }
            int longs = 0;
            boolean shortArgument = false;
            while (i < length && "hlLqjzt".indexOf(format.charAt(i)) >= 0)
            {
                final char modifier = format.charAt(i);
                if (modifier == 'l' || modifier == 'L' || modifier == 'q' || modifier == 'j' || modifier == 'z' ||
                    modifier == 't')
                {
                    longs++;
                }
                else
                {
                    shortArgument = true;
                }
                i++;
            }
            if (i >= length)
            {
                out.append(format, specStart, length);
                break;
            }
            final char conversion = format.charAt(i++);
            final String flagsAndWidth = format.substring(specStart, i - 1).replaceAll("[hlLqjzt]", "");
            if (cursor == 0 && conversion != 'n')
            {
                out.append(format, specStart, i);
                continue;
            }
            switch (conversion)
            {
                case 'd', 'i', 'u', 'x', 'X', 'o', 'c' ->
                {
                    final boolean wide = longs > 0;
                    final int size = wide ? 8 : 4;
                    cursor = align(cursor, size);
                    long value = wide ? UnsafeApi.getLong(address(interpreter, t, cursor, 8)) :
                        UnsafeApi.getInt(address(interpreter, t, cursor, 4));
                    cursor += size;
                    if (shortArgument)
                    {
                        value = conversion == 'd' || conversion == 'i' ? (short)value : value & 0xFFFF;
                    }
                    if (conversion == 'c')
                    {
                        out.append(String.format(flagsAndWidth + "c", (char)(value & 0xFF)));
                    }
                    else if (conversion == 'd' || conversion == 'i')
                    {
                        out.append(String.format(flagsAndWidth + "d", value));
                    }
                    else
                    {
                        final long unsigned = wide ? value : value & 0xFFFF_FFFFL;
                        if (conversion == 'u')
                        {
                            out.append(String.format(flagsAndWidth + "s",
                                Long.toUnsignedString(unsigned)).replace(' ', flagsAndWidth.contains("0") ? '0' : ' '));
                        }
                        else
                        {
                            out.append(String.format(flagsAndWidth + conversion, unsigned));
                        }
                    }
                }
                case 'f', 'F', 'e', 'E', 'g', 'G', 'a', 'A' ->
                {
                    cursor = align(cursor, 8);
                    final double value = Double.longBitsToDouble(UnsafeApi.getLong(address(interpreter, t, cursor, 8)));
                    cursor += 8;
                    out.append(formatDouble(flagsAndWidth, conversion, value));
                }
                case 's' ->
                {
                    cursor = align(cursor, 8);
                    final long pointer = UnsafeApi.getLong(address(interpreter, t, cursor, 8));
                    cursor += 8;
                    out.append(String.format(flagsAndWidth + "s", interpreter.cString(t, pointer)));
                }
                case 'p' ->
                {
                    cursor = align(cursor, 8);
                    final long pointer = UnsafeApi.getLong(address(interpreter, t, cursor, 8));
                    cursor += 8;
                    out.append("0x").append(Long.toHexString(pointer));
                }
                default -> out.append(format, specStart, i);
            }
        }
        return out.toString();
    }

    private static String formatDouble(final String flagsAndWidth, final char conversion, final double value)
    {
        if (Double.isNaN(value) || Double.isInfinite(value))
        {
            final String text = Double.isNaN(value) ? "nan" : (value > 0 ? "inf" : "-inf");
            return String.format(flagsAndWidth.replaceAll("\\.\\d*", "").replace("0", "") + "s",
                Character.isUpperCase(conversion) ? text.toUpperCase() : text);
        }
        if (conversion == 'g' || conversion == 'G')
        {
            return CFloatFormat.general(flagsAndWidth, conversion, value);
        }
        final char javaConversion = conversion == 'F' ? 'f' : conversion;
        return String.format(flagsAndWidth + javaConversion, value);
    }

    private static long address(final Interpreter interpreter, final ThreadState t, final long at, final int size)
    {
        return interpreter.resolve(t, Op.SPACE_GENERIC, at, size);
    }

    private static long align(final long value, final int alignment)
    {
        return (value + alignment - 1) & -alignment;
    }
}
