package dev.bitfusion.server.backend.cuda;

import dev.bitfusion.server.backend.CallResult;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;

import static dev.bitfusion.cuda.CuResult.CUDA_SUCCESS;
import static jcuda.driver.JCudaDriver.*;

/**
 * A tenant's own CUDA context on its GPU. Every client context of the tenant shares it; it is made current on
 * the calling thread before each call when it is not already (any thread can run any tenant; a session's own
 * thread switches only between its GPUs' contexts).
 * <p>
 * Thread safety: used by the session's executor only.
 */
final class CudaContext
{
    /** The context this backend last made current on each thread (see {@link #enter()}). */
    private static final ThreadLocal<CUcontext> CURRENT_CONTEXT = new ThreadLocal<>();

    private final CUcontext context = new CUcontext();
    private final long[] longOut = new long[1];

    /**
     * @throws CudaUnavailableException when the driver will not create the context.
     */
    CudaContext(final CUdevice device)
    {
        final int status = cuCtxCreate(context, 0, device);
        if (status != CUDA_SUCCESS)
        {
            throw new CudaUnavailableException("cuCtxCreate failed: " + CUresult.stringFor(status));
        }
        cuCtxPopCurrent(new CUcontext());
    }

    /**
     * Makes the session's context current on the calling thread. A session's calls come on its own thread, so
     * the context is set once and stays: no push and pop around every call (a session with several GPUs
     * switches between their contexts).
     */
    int enter()
    {
        if (CURRENT_CONTEXT.get() == context)
        {
            return CUDA_SUCCESS;
        }
        final int status = cuCtxSetCurrent(context);
        if (status == CUDA_SUCCESS)
        {
            CURRENT_CONTEXT.set(context);
        }
        return status;
    }

    /**
     * cuCtxGetLimit, or cuCtxSetLimit then cuCtxGetLimit: result value1 is the limit's value.
     */
    int limit(final int limit, final boolean set, final long value, final CallResult result)
    {
        int status = enter();
        if (status == CUDA_SUCCESS)
        {
            status = set ? cuCtxSetLimit(limit, value) : CUDA_SUCCESS;
            if (status == CUDA_SUCCESS)
            {
                status = cuCtxGetLimit(longOut, limit);
            }
        }
        if (status == CUDA_SUCCESS)
        {
            result.value1 = longOut[0];
        }
        return status;
    }

    /**
     * Destroy the context, with whatever the tenant left in it.
     */
    void destroy()
    {
        if (CURRENT_CONTEXT.get() == context)
        {
            CURRENT_CONTEXT.remove();
        }
        cuCtxDestroy(context);
    }
}
