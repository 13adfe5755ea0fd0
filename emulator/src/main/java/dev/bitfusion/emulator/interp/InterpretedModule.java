package dev.bitfusion.emulator.interp;

import dev.bitfusion.emulator.EmulatedFunction;
import dev.bitfusion.emulator.EmulatedModule;
import dev.bitfusion.emulator.GlobalSymbol;
import dev.bitfusion.emulator.memory.DeviceMemory;

import java.util.List;
import java.util.Map;

/**
 * A loaded PTX module: its kernels and its globals in the tenant's memory.
 * <p>
 * Thread safety: lookups are read-only; {@link #unload()} must not race launches.
 */
final class InterpretedModule implements EmulatedModule
{
    private final Map<String, InterpretedFunction> functions;
    private final Map<String, GlobalSymbol> globals;
    private final List<Long> allocations;
    private final DeviceMemory memory;

    InterpretedModule(
        final Map<String, InterpretedFunction> functions,
        final Map<String, GlobalSymbol> globals,
        final List<Long> allocations,
        final DeviceMemory memory)
    {
        this.functions = functions;
        this.globals = globals;
        this.allocations = allocations;
        this.memory = memory;
    }

    public EmulatedFunction function(final String name)
    {
        return functions.get(name);
    }

    public GlobalSymbol global(final String name)
    {
        return globals.get(name);
    }

    public synchronized void unload()
    {
        for (final long address : allocations)
        {
            memory.free(address);
        }
        allocations.clear();
    }
}
