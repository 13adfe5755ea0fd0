package dev.bitfusion.benchmarks.agent;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

import java.util.Arrays;
import java.util.Locale;

import static jcuda.driver.JCudaDriver.*;

/**
 * A JVM program timing one synchronous driver call (cuCtxSynchronize) through JCuda, run under the Java agent
 * by {@code BridgeBenchmark}: JCuda's native library, our libcuda.so.1, JNI back into the agent's runtime, one
 * round trip. bridge_bench.c times the same call from C. Prints {@code sync_call_us X}: the median of five
 * rounds after one warm-up round.
 * <p>
 * Arguments: CALLS per round.
 */
public final class JCudaSyncProbe
{
    private JCudaSyncProbe()
    {
    }

    public static void main(final String[] args)
    {
        final int calls = Integer.parseInt(args[0]);
        JCudaDriver.setExceptionsEnabled(true);
        cuInit(0);
        final CUdevice device = new CUdevice();
        cuDeviceGet(device, 0);
        final CUcontext context = new CUcontext();
        cuDevicePrimaryCtxRetain(context, device);
        cuCtxSetCurrent(context);
        final double[] micros = new double[6];
        for (int round = 0; round < micros.length; round++)
        {
            final long start = System.nanoTime();
            for (int i = 0; i < calls; i++)
            {
                cuCtxSynchronize();
            }
            micros[round] = (System.nanoTime() - start) / 1000.0 / calls;
        }
        final double[] timed = Arrays.copyOfRange(micros, 1, micros.length);
        Arrays.sort(timed);
        System.out.printf(Locale.ROOT, "sync_call_us %.3f%n", timed[timed.length / 2]);
        cuDevicePrimaryCtxRelease(device);
    }
}
