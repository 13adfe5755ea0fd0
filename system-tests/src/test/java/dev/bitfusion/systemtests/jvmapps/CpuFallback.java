package dev.bitfusion.systemtests.jvmapps;

import jcuda.driver.CUresult;

import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuInit;

/**
 * A program that uses a GPU when there is one and the CPU otherwise, as ML stacks do: it asks the driver, and
 * prints PASSED when the driver says, cleanly, that there is no GPU.
 */
public final class CpuFallback
{
    private CpuFallback()
    {
    }

    public static void main(final String[] args)
    {
        final int status = cuInit(0);
        final int[] count = new int[1];
        final int counted = status == CUresult.CUDA_SUCCESS ? cuDeviceGetCount(count) : status;
        if (status == CUresult.CUDA_SUCCESS && counted == CUresult.CUDA_SUCCESS && count[0] > 0)
        {
            System.out.println("CpuFallback: FAILED: " + count[0] + " GPUs where none should be");
            System.exit(1);
        }
        System.out.println("CpuFallback: no GPU (" + CUresult.stringFor(status) + "), running on the CPU PASSED");
    }
}
