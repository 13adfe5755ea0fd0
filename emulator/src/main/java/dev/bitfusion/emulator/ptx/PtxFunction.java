package dev.bitfusion.emulator.ptx;

import java.util.List;

/**
 * A {@code .entry} or {@code .func} as written.
 *
 * @param name      the mangled name.
 * @param entry     a kernel ({@code .entry}) rather than a device function.
 * @param external  declared without a body (e.g. {@code vprintf}).
 * @param returns   return parameters ({@code .func} only).
 * @param params    parameters in order.
 * @param body      statements in order, empty when external.
 * @param maxThreads {@code .maxntid}/{@code .reqntid} product, or 0 when not declared.
 * @param line      1-based line of the declaration.
 */
public record PtxFunction(
    String name, boolean entry, boolean external, List<PtxVariable> returns, List<PtxVariable> params,
    List<PtxStatement> body, int maxThreads, int line)
{
}
