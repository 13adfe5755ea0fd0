package dev.bitfusion.emulator.corpus;

/**
 * IEEE 754 binary16 conversions for CPU references (Java 17 has no Float.floatToFloat16).
 */
final class HalfPrecision
{
    private HalfPrecision()
    {
    }

    /**
     * Round to nearest, ties to even, as {@code __float2half_rn} and {@code cvt.rn.f16.f32} do.
     */
    static short fromFloat(final float value)
    {
        final int bits = Float.floatToRawIntBits(value);
        final int sign = (bits >>> 16) & 0x8000;
        final float magnitude = Math.abs(value);

        if (Float.isNaN(value))
        {
            return (short)(sign | 0x7e00);
        }
        // 65520 lies halfway between 65504 (mantissa 0x3ff, odd) and 65536, so it rounds up to infinity.
        if (magnitude >= 65520f)
        {
            return (short)(sign | 0x7c00);
        }
        if (magnitude < 0x1p-14f)
        {
            // Subnormal half: magnitude = m * 2^-24; m == 0x400 is the smallest normal, encoded the same way.
            final int m = (int)Math.rint((double)magnitude * 0x1p24);
            return (short)(sign | m);
        }

        final int magnitudeBits = Float.floatToRawIntBits(magnitude);
        final int exponent = (magnitudeBits >>> 23) - 127 + 15;
        final int mantissa = magnitudeBits & 0x7fffff;
        int half = (exponent << 10) | (mantissa >>> 13);
        final int remainder = mantissa & 0x1fff;
        if (remainder > 0x1000 || (remainder == 0x1000 && (half & 1) != 0))
        {
            half++;
        }
        return (short)(sign | half);
    }

    static float toFloat(final short half)
    {
        final float sign = (half & 0x8000) != 0 ? -1f : 1f;
        final int exponent = (half >>> 10) & 0x1f;
        final int mantissa = half & 0x3ff;
        if (exponent == 0)
        {
            return sign * Math.scalb((float)mantissa, -24);
        }
        if (exponent == 31)
        {
            return mantissa == 0 ? sign * Float.POSITIVE_INFINITY : Float.NaN;
        }
        return sign * Math.scalb((float)(0x400 | mantissa), exponent - 25);
    }
}
