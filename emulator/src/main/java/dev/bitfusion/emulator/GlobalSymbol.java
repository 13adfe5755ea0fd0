package dev.bitfusion.emulator;

/**
 * Where a module's global variable lives in device memory, as cuModuleGetGlobal reports it.
 *
 * @param deviceAddress address in the tenant's device memory.
 * @param sizeBytes     size of the variable in bytes.
 */
public record GlobalSymbol(long deviceAddress, long sizeBytes)
{
}
