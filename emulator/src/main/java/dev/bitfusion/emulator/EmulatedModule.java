package dev.bitfusion.emulator;

/**
 * A module (PTX, cubin-bearing fatbin, or cudart's fatbin wrapper) loaded into one tenant's memory.
 * <p>
 * Thread safety: lookups may be made from any thread; {@link #unload()} must not race launches.
 */
public interface EmulatedModule
{
    /**
     * @param name the mangled entry name, as cuModuleGetFunction receives it.
     * @return the kernel, or null when the module has no entry of that name.
     */
    EmulatedFunction function(String name);

    /**
     * @param name the mangled name of a {@code __device__} or {@code __constant__} variable.
     * @return its device address and size in the tenant's memory, or null when there is no such global.
     */
    GlobalSymbol global(String name);

    /**
     * Free the module's globals from the tenant's memory.
     */
    void unload();
}
