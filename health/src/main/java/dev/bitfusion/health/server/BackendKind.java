package dev.bitfusion.health.server;

/**
 * What executes a server's CUDA calls. The emulated backend has no driver, sensors or PCIe link, so
 * the checks of those answer INFO or SKIPPED for it, never PASS.
 */
public enum BackendKind
{
    /**
     * A real NVIDIA GPU through the CUDA driver.
     */
    CUDA,

    /**
     * The CPU emulator.
     */
    EMULATED
}
