package dev.bitfusion.server.backend.cuda;

/**
 * The NVIDIA driver cannot be used: JCuda or libcuda.so.1 does not load, cuInit fails, or there is no GPU.
 * The message says what failed, for a one-line error at the command line.
 */
public final class CudaUnavailableException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public CudaUnavailableException(final String message)
    {
        super(message);
    }

    public CudaUnavailableException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
