package dev.bitfusion.emulator.ptx;

import java.util.List;

/**
 * A variable declaration: a register, parameter, or a global/const/shared/local variable.
 *
 * @param space       state space without the dot: reg, param, global, const, shared, local.
 * @param name        declared name (for {@code %r<6>} the prefix {@code %r}).
 * @param alignment   declared or natural alignment in bytes.
 * @param type        element type without the dot, e.g. b8, u32, f32, pred.
 * @param elementSize size of one element in bytes.
 * @param count       number of elements; 1 for a scalar, -1 for an unsized {@code []} array.
 * @param ranged      declared as {@code name<count>}: names {@code name0..name(count-1)}.
 * @param init        initial bytes, or null.
 * @param initSymbols symbol references in the initialiser, as (byte offset, name) pairs.
 * @param external    declared {@code .extern}.
 * @param line        1-based source line.
 */
public record PtxVariable(
    String space, String name, int alignment, String type, int elementSize, long count, boolean ranged,
    byte[] init, List<SymbolReference> initSymbols, boolean external, int line)
{
    /**
     * A symbol's address stored in an initialiser.
     *
     * @param offset byte offset in the variable.
     * @param symbol the symbol whose address is stored.
     */
    public record SymbolReference(int offset, String symbol)
    {
    }

    /**
     * @return the variable's size in bytes (0 for unsized arrays).
     */
    public long sizeBytes()
    {
        return count < 0 ? 0 : count * elementSize;
    }
}
