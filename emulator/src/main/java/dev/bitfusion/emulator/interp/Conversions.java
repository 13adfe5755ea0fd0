package dev.bitfusion.emulator.interp;

/**
 * {@code cvt} between every integer and floating-point type, and the f16/bf16 arithmetic, on raw register
 * bits.
 * <p>
 * Thread safety: stateless.
 */
final class Conversions
{
    private Conversions()
    {
    }

    static long convert(final long value, final int to, final int from, final int rounding, final boolean saturate)
    {
        if (isFloat(from))
        {
            double v = toDouble(value, from);
            if (isFloat(to))
            {
                v = roundToInteger(v, rounding);
                if (saturate)
                {
                    v = v != v ? 0.0 : Math.min(1.0, Math.max(0.0, v));
                }
                return fromDouble(v, to, rounding);
            }
            if (v != v)
            {
                return 0;
            }
            v = roundToInteger(v, rounding == Op.RND_NONE ? Op.RND_RZI : rounding);
            return saturateInteger(v, to);
        }
        final long x = extend(value, from);
        if (isFloat(to))
        {
            final boolean unsigned64 = from == Op.T_U64 && x < 0;
            if (to == Op.T_F64)
            {
                return Double.doubleToRawLongBits(unsigned64 ? unsignedToDouble(x) : (double)x);
            }
            final float f = unsigned64 ? (float)unsignedToDouble(x) : (float)x;
            if (to == Op.T_F32)
            {
                return Float.floatToRawIntBits(f);
            }
            return to == Op.T_F16 ? HalfFloat.floatToHalf(f) : HalfFloat.floatToBfloat(f);
        }
        if (saturate)
        {
            return clampInteger(x, from, to);
        }
        return extend(x, to);
    }

    private static boolean isFloat(final int type)
    {
        return type == Op.T_F16 || type == Op.T_BF16 || type == Op.T_F32 || type == Op.T_F64;
    }

    static double toDouble(final long bits, final int type)
    {
        return switch (type)
        {
            case Op.T_F16 -> HalfFloat.halfToFloat((int)bits & 0xFFFF);
            case Op.T_BF16 -> HalfFloat.bfloatToFloat((int)bits);
            case Op.T_F32 -> Float.intBitsToFloat((int)bits);
            default -> Double.longBitsToDouble(bits);
        };
    }

    private static long fromDouble(final double v, final int type, final int rounding)
    {
        switch (type)
        {
            case Op.T_F16:
                return HalfFloat.floatToHalf((float)v);
            case Op.T_BF16:
                return HalfFloat.floatToBfloat((float)v);
            case Op.T_F32:
            {
                float f = (float)v;
                if (rounding == Op.RND_RZ && Math.abs((double)f) > Math.abs(v))
                {
                    f = Math.nextAfter(f, 0.0);
                }
                else if (rounding == Op.RND_RM && (double)f > v)
                {
                    f = Math.nextDown(f);
                }
                else if (rounding == Op.RND_RP && (double)f < v)
                {
                    f = Math.nextUp(f);
                }
                return Float.floatToRawIntBits(f);
            }
            default:
                return Double.doubleToRawLongBits(v);
        }
    }

    private static double roundToInteger(final double v, final int rounding)
    {
        return switch (rounding)
        {
            case Op.RND_RNI -> Math.rint(v);
            case Op.RND_RZI -> v < 0 ? Math.ceil(v) : Math.floor(v);
            case Op.RND_RMI -> Math.floor(v);
            case Op.RND_RPI -> Math.ceil(v);
            default -> v;
        };
    }

    private static long saturateInteger(final double v, final int to)
    {
        return switch (to)
        {
            case Op.T_U8 -> (long)Math.min(255, Math.max(0, v));
            case Op.T_S8 -> (long)Math.min(127, Math.max(-128, v));
            case Op.T_U16 -> (long)Math.min(65535, Math.max(0, v));
            case Op.T_S16 -> (long)Math.min(32767, Math.max(-32768, v));
            case Op.T_U32 -> (int)(long)Math.min(4294967295.0, Math.max(0, v));
            case Op.T_S32 -> (int)v;
            case Op.T_S64 -> (long)v;
            default -> v <= 0 ? 0 : v >= 18446744073709551615.0 ? -1L :
                v >= 9223372036854775808.0 ? (long)(v - 9223372036854775808.0) + Long.MIN_VALUE : (long)v;
        };
    }

    private static long clampInteger(final long x, final int from, final int to)
    {
        final boolean unsignedSource = from == Op.T_U8 || from == Op.T_U16 || from == Op.T_U32 || from == Op.T_U64;
        final long min;
        final long max;
        switch (to)
        {
            case Op.T_U8 -> { min = 0; max = 255; }
            case Op.T_S8 -> { min = -128; max = 127; }
            case Op.T_U16 -> { min = 0; max = 65535; }
            case Op.T_S16 -> { min = -32768; max = 32767; }
            case Op.T_U32 -> { min = 0; max = 0xFFFF_FFFFL; }
            case Op.T_S32 -> { min = Integer.MIN_VALUE; max = Integer.MAX_VALUE; }
            case Op.T_S64 ->
            {
                return unsignedSource && x < 0 ? Long.MAX_VALUE : x;
            }
            default ->
            {
                return !unsignedSource && x < 0 ? 0 : x;
            }
        }
        if (unsignedSource && x < 0)
        {
            return extend(max, to);
        }
        return extend(Math.min(max, Math.max(min, x)), to);
    }

    static long extend(final long x, final int type)
    {
        return switch (type)
        {
            case Op.T_U8 -> x & 0xFF;
            case Op.T_S8 -> (byte)x;
            case Op.T_U16, Op.T_F16, Op.T_BF16 -> x & 0xFFFF;
            case Op.T_S16 -> (short)x;
            case Op.T_U32 -> x & 0xFFFF_FFFFL;
            case Op.T_S32, Op.T_F32 -> (int)x;
            default -> x;
        };
    }

    private static double unsignedToDouble(final long x)
    {
        final double high = (double)(x >>> 1) * 2.0;
        return high + (x & 1);
    }

    static long half(final long a, final long b, final long c, final int kind, final int format)
    {
        final boolean bf = format == 1 || format == 3;
        if (format >= 2)
        {
            final long low = halfScalar(a & 0xFFFF, b & 0xFFFF, c & 0xFFFF, kind, bf);
            final long high = halfScalar((a >>> 16) & 0xFFFF, (b >>> 16) & 0xFFFF, (c >>> 16) & 0xFFFF, kind, bf);
            return (int)(low | (high << 16));
        }
        return halfScalar(a, b, c, kind, bf);
    }

    private static long halfScalar(final long a, final long b, final long c, final int kind, final boolean bf)
    {
        final float x = bf ? HalfFloat.bfloatToFloat((int)a) : HalfFloat.halfToFloat((int)a & 0xFFFF);
        final float y = bf ? HalfFloat.bfloatToFloat((int)b) : HalfFloat.halfToFloat((int)b & 0xFFFF);
        final float z = bf ? HalfFloat.bfloatToFloat((int)c) : HalfFloat.halfToFloat((int)c & 0xFFFF);
        final float result = switch (kind)
        {
            case 0 -> x + y;
            case 1 -> x - y;
            case 2 -> x * y;
            case 3 -> (float)((double)x * y + z);
            case 4 -> x != x ? y : y != y ? x : Math.min(x, y);
            case 5 -> x != x ? y : y != y ? x : Math.max(x, y);
            case 6 -> -x;
            default -> Math.abs(x);
        };
        return bf ? HalfFloat.floatToBfloat(result) : HalfFloat.floatToHalf(result);
    }
}
