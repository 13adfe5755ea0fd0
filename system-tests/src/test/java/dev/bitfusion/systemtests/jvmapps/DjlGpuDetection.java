package dev.bitfusion.systemtests.jvmapps;

import ai.djl.util.cuda.CudaUtils;

/**
 * What DJL decides about GPUs: the count, whether CUDA is there and its version, which DJL's engines use to
 * choose between their CPU and CUDA builds. Prints PASSED when DJL sees the expected number of GPUs.
 * <p>
 * Arguments: EXPECTED_GPUS.
 */
public final class DjlGpuDetection
{
    private DjlGpuDetection()
    {
    }

    public static void main(final String[] args)
    {
        final int gpus = CudaUtils.getGpuCount();
        final boolean cuda = CudaUtils.hasCuda();
        System.out.println("DjlGpuDetection: " + gpus + " GPU, CUDA " + (cuda ? CudaUtils.getCudaVersionString() : "absent"));
        if (gpus != Integer.parseInt(args[0]) || cuda != gpus > 0)
        {
            System.out.println("DjlGpuDetection: FAILED");
            System.exit(1);
        }
        System.out.println("DjlGpuDetection: PASSED");
    }
}
