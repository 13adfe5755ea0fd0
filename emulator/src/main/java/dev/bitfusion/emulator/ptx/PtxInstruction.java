package dev.bitfusion.emulator.ptx;

import java.util.List;

/**
 * One PTX instruction as written.
 *
 * @param guard         the guard predicate register, or null.
 * @param guardNegated  the guard is {@code @!p}.
 * @param opcode        the full dotted opcode, e.g. {@code ld.global.nc.v4.f32}.
 * @param operands      the operands in order.
 * @param line          the 1-based source line, for messages.
 */
public record PtxInstruction(String guard, boolean guardNegated, String opcode, List<PtxOperand> operands, int line)
{
}
