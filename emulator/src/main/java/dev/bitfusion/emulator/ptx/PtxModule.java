package dev.bitfusion.emulator.ptx;

import java.util.List;

/**
 * A parsed PTX module.
 *
 * @param versionMajor {@code .version} major.
 * @param versionMinor {@code .version} minor.
 * @param target       {@code .target} value, e.g. sm_75.
 * @param variables    module-scope variables in order.
 * @param functions    entries and device functions in order.
 */
public record PtxModule(
    int versionMajor, int versionMinor, String target, List<PtxVariable> variables, List<PtxFunction> functions)
{
}
