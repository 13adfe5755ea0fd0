package dev.bitfusion.emulator;

/**
 * A module that cannot be loaded or a kernel that cannot be launched, with the CUresult the driver API
 * returns for it and a message naming the cause (instruction, line, architectures found...).
 */
public final class EmulatorException extends Exception
{
    private final int cudaError;

    /**
     * @param cudaError the CUresult value, e.g. 218 (CUDA_ERROR_INVALID_PTX) or 801 (CUDA_ERROR_NOT_SUPPORTED).
     * @param message   what failed, for a person.
     */
    public EmulatorException(final int cudaError, final String message)
    {
        super(message);
        this.cudaError = cudaError;
    }

    /**
     * @return the CUresult value the driver API reports.
     */
    public int cudaError()
    {
        return cudaError;
    }
}
