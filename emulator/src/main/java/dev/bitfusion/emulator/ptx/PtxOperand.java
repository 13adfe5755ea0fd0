package dev.bitfusion.emulator.ptx;

import java.util.List;

/**
 * One operand of a PTX instruction as written, before names are resolved.
 *
 * @param kind     what the operand is.
 * @param name     register, symbol or label name (NAME, ADDRESS base, may be null for an absolute address).
 * @param value    integer value (INT), raw bits (FLOAT32, FLOAT64) or the address offset (ADDRESS).
 * @param negated  written with a leading {@code !}.
 * @param elements the names of a VECTOR or LIST operand; the second name of a PAIR ({@code %r|%p}).
 */
public record PtxOperand(Kind kind, String name, long value, boolean negated, List<PtxOperand> elements)
{
    /**
     * What an operand is.
     */
    public enum Kind
    {
        /** A register, symbol, special register or label. */
        NAME,
        /** An integer literal. */
        INT,
        /** A single-precision literal (raw bits in value). */
        FLOAT32,
        /** A double-precision literal (raw bits in value). */
        FLOAT64,
        /** {@code [base+offset]}. */
        ADDRESS,
        /** {@code {a, b, c, d}}. */
        VECTOR,
        /** {@code (a, b)}, as call arguments are written. */
        LIST,
        /** {@code d|p}, a destination with a predicate beside it. */
        PAIR
    }

    /**
     * @param name    the name.
     * @param negated written with a leading {@code !}.
     * @return a NAME operand.
     */
    public static PtxOperand name(final String name, final boolean negated)
    {
        return new PtxOperand(Kind.NAME, name, 0, negated, List.of());
    }

    static PtxOperand integer(final long value)
    {
        return new PtxOperand(Kind.INT, null, value, false, List.of());
    }
}
