package dev.bitfusion.emulator;

import dev.bitfusion.emulator.memory.DeviceMemory;

/**
 * Entry point of the emulated GPU: turns what nvcc emits (PTX text, fatbins, cudart's fatbin wrapper)
 * into modules whose kernels run on the CPU.
 * <p>
 * Thread safety: stateless; loads may run concurrently for different tenants.
 */
public final class Emulator
{
    private Emulator()
    {
    }

    /**
     * Load a module image into a tenant's memory, decoding every instruction up front.
     *
     * @param image  PTX text (NUL-terminated or not), a fatbin (magic 0xBA55ED50) or a buffer that starts
     *               with cudart's fatbin wrapper (magic 0x466243B1) followed by the fatbin.
     * @param memory the tenant's device memory, where the module's globals are allocated.
     * @return the loaded module.
     * @throws EmulatorException with 200 (INVALID_IMAGE), 209 (NO_BINARY_FOR_GPU), 218 (INVALID_PTX) or
     *                           801 (NOT_SUPPORTED) when the image cannot be loaded.
     */
    public static EmulatedModule load(final byte[] image, final DeviceMemory memory) throws EmulatorException
    {
        throw new EmulatorException(801, "emulator loading not implemented yet");
    }
}
