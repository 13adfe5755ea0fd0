package dev.bitfusion.emulator.interp;

/**
 * A function decoded into int-coded instructions with resolved register slots.
 * <p>
 * Thread safety: immutable once the module has loaded.
 */
final class CompiledFunction
{
    final String name;
    final boolean entry;
    int[] code;
    /** Initial register file: special slots (zero), constants, then registers (zero). */
    long[] registerTemplate;
    /** Bytes of this function's frame in the thread stack: return values, formals, locals, call-site params. */
    int frameSize;
    int[] formalOffsets;
    int[] formalSizes;
    int returnOffset;
    int returnSize;
    CallSite[] callSites;
    int staticSharedBytes;
    int localBytes;
    int declaredRegisters;
    int maxThreads;
    boolean collective;
    boolean calls;
    /** Source line of each instruction, indexed by pc / STRIDE, for fault messages. */
    int[] lines;

    CompiledFunction(final String name, final boolean entry)
    {
        this.name = name;
        this.entry = entry;
    }

    /**
     * A call instruction's argument and return locations in the caller's frame.
     */
    static final class CallSite
    {
        final String calleeName;
        CompiledFunction callee;
        final int[] argumentOffsets;
        final int[] argumentSizes;
        final int returnOffset;
        final int returnSize;

        CallSite(
            final String calleeName,
            final int[] argumentOffsets,
            final int[] argumentSizes,
            final int returnOffset,
            final int returnSize)
        {
            this.calleeName = calleeName;
            this.argumentOffsets = argumentOffsets;
            this.argumentSizes = argumentSizes;
            this.returnOffset = returnOffset;
            this.returnSize = returnSize;
        }
    }
}
