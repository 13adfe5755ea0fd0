package dev.bitfusion.emulator.ptx;

/**
 * A statement in a function body: a label, an instruction, a declaration, or a scope brace.
 *
 * @param kind        what it is.
 * @param label       the label name (LABEL).
 * @param instruction the instruction (INSTRUCTION).
 * @param variable    the declared variable (DECLARATION).
 */
public record PtxStatement(Kind kind, String label, PtxInstruction instruction, PtxVariable variable)
{
    /**
     * Statement kinds.
     */
    public enum Kind
    {
        /** {@code name:}. */
        LABEL,
        /** An instruction. */
        INSTRUCTION,
        /** A {@code .reg}, {@code .local}, {@code .shared} or {@code .param} declaration. */
        DECLARATION,
        /** {@code {}. */
        SCOPE_OPEN,
        /** {@code }}. */
        SCOPE_CLOSE
    }
}
