package dev.bitfusion.emulator.interp;

/**
 * Conversions between float and the 16-bit formats (IEEE binary16 and bfloat16), round to nearest even.
 * <p>
 * Thread safety: stateless.
 */
final class HalfFloat
{
    private HalfFloat()
    {
    }

    static float halfToFloat(final int bits)
    {
        final int sign = (bits & 0x8000) << 16;
        final int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0x1F)
        {
            return Float.intBitsToFloat(sign | 0x7F80_0000 | (mantissa << 13));
        }
        if (exponent == 0)
        {
            if (mantissa == 0)
            {
                return Float.intBitsToFloat(sign);
            }
            final float value = mantissa * 0x1p-24f;
            return sign != 0 ? -value : value;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    static int floatToHalf(final float value)
    {
        final int bits = Float.floatToRawIntBits(value);
        final int sign = (bits >>> 16) & 0x8000;
        final int exponent = (bits >>> 23) & 0xFF;
        final int mantissa = bits & 0x7F_FFFF;
        if (exponent == 0xFF)
        {
            return sign | 0x7C00 | (mantissa != 0 ? 0x200 | (mantissa >>> 13) : 0);
        }
        final int unbiased = exponent - 127;
        if (unbiased > 15)
        {
            return sign | 0x7C00;
        }
        if (unbiased >= -14)
        {
            int half = ((unbiased + 15) << 10) | (mantissa >>> 13);
            final int rest = mantissa & 0x1FFF;
            if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0))
            {
                half++;
            }
            return sign | half;
        }
        if (unbiased < -25)
        {
            return sign;
        }
        final int full = mantissa | 0x80_0000;
        final int shift = -unbiased - 14 + 13;
        int half = full >>> shift;
        final int rest = full & ((1 << shift) - 1);
        final int midpoint = 1 << (shift - 1);
        if (rest > midpoint || (rest == midpoint && (half & 1) != 0))
        {
            half++;
        }
        return sign | half;
    }

    static float bfloatToFloat(final int bits)
    {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    static int floatToBfloat(final float value)
    {
        final int bits = Float.floatToRawIntBits(value);
        if (value != value)
        {
            return ((bits >>> 16) | 0x40) & 0xFFFF;
        }
        return ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16) & 0xFFFF;
    }
}
