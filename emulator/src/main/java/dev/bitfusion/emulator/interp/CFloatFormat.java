package dev.bitfusion.emulator.interp;

import java.math.BigDecimal;

/**
 * C's {@code %g}, which Java's formatter does not reproduce: precision counts significant digits and
 * trailing zeros are removed unless {@code #} is given.
 * <p>
 * Thread safety: stateless.
 */
final class CFloatFormat
{
    private CFloatFormat()
    {
    }

    static String general(final String flagsAndWidth, final char conversion, final double value)
    {
        final int dot = flagsAndWidth.indexOf('.');
        int precision = 6;
        String flags = flagsAndWidth;
        if (dot >= 0)
        {
            final String digits = flagsAndWidth.substring(dot + 1);
            precision = digits.isEmpty() ? 0 : Integer.parseInt(digits);
            flags = flagsAndWidth.substring(0, dot);
        }
        if (precision == 0)
        {
            precision = 1;
        }
        final boolean alternate = flags.contains("#");
        final int exponent = value == 0 ? 0 : new BigDecimal(Math.abs(value)).round(
            new java.math.MathContext(precision)).precision() - new BigDecimal(Math.abs(value)).round(
            new java.math.MathContext(precision)).scale() - 1;
        String body;
        if (exponent < -4 || exponent >= precision)
        {
            body = String.format("%." + (precision - 1) + "e", value);
            if (!alternate)
            {
                final int e = body.indexOf('e');
                String mantissa = body.substring(0, e);
                if (mantissa.contains("."))
                {
                    mantissa = mantissa.replaceAll("0+$", "").replaceAll("\\.$", "");
                }
                body = mantissa + body.substring(e);
            }
        }
        else
        {
            body = String.format("%." + Math.max(0, precision - 1 - exponent) + "f", value);
            if (!alternate && body.contains("."))
            {
                body = body.replaceAll("0+$", "").replaceAll("\\.$", "");
            }
        }
        if (conversion == 'G')
        {
            body = body.toUpperCase();
        }
        final String width = flags.replaceAll("[^0-9]", "").replaceFirst("^0", "");
        if (!width.isEmpty())
        {
            final int w = Integer.parseInt(width);
            final boolean left = flags.contains("-");
            final StringBuilder padded = new StringBuilder(body);
            while (padded.length() < w)
            {
                if (left)
                {
                    padded.append(' ');
                }
                else
                {
                    padded.insert(0, flags.startsWith("%0") || flags.matches("%[-+ #]*0.*") ? '0' : ' ');
                }
            }
            body = padded.toString();
        }
        if (flags.contains("+") && value >= 0)
        {
            body = "+" + body;
        }
        return body;
    }
}
