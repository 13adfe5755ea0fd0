package dev.bitfusion.emulator.interp;

/**
 * Raised inside a launch when a kernel faults; carries the CUresult the launch returns. Thrown only on the
 * fault path, so it records no stack trace.
 */
final class KernelFault extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    final int cudaError;

    KernelFault(final int cudaError, final String message)
    {
        super(message, null, false, false);
        this.cudaError = cudaError;
    }
}
