package dev.bitfusion.systemtests.jvmapps;

import jcuda.Pointer;
import jcuda.runtime.JCuda;
import jcuda.runtime.cudaDeviceProp;

import static jcuda.runtime.JCuda.*;
import static jcuda.runtime.cudaMemcpyKind.*;

/**
 * A JCuda runtime-API program (JCuda's runtime library carries a static cudart): device properties, the
 * slice's memory, allocations, copies in every direction and a memset, each byte checked; prints PASSED only
 * when all hold.
 * <p>
 * Arguments: SLICE_MIB, the slice the program should see as the device's memory.
 */
public final class JCudaRuntimeCopies
{
    private static final int BYTES = 1 << 20;

    private JCudaRuntimeCopies()
    {
    }

    public static void main(final String[] args)
    {
        JCuda.setExceptionsEnabled(true);
        final int[] count = new int[1];
        cudaGetDeviceCount(count);
        final cudaDeviceProp properties = new cudaDeviceProp();
        cudaGetDeviceProperties(properties, 0);
        final long[] free = new long[1];
        final long[] total = new long[1];
        cudaMemGetInfo(free, total);
        final long sliceMib = Long.parseLong(args[0]);
        check(count[0] == 1, "one device, got " + count[0]);
        check(total[0] == sliceMib << 20, "total memory " + total[0] + " is the slice of " + sliceMib + " MiB");

        final byte[] host = new byte[BYTES];
        for (int i = 0; i < BYTES; i++)
        {
            host[i] = (byte)(i * 31 + 7);
        }
        final Pointer first = new Pointer();
        final Pointer second = new Pointer();
        cudaMalloc(first, BYTES);
        cudaMalloc(second, BYTES);
        cudaMemcpy(first, Pointer.to(host), BYTES, cudaMemcpyHostToDevice);
        cudaMemcpy(second, first, BYTES, cudaMemcpyDeviceToDevice);
        final byte[] back = new byte[BYTES];
        cudaMemcpy(Pointer.to(back), second, BYTES, cudaMemcpyDeviceToHost);
        check(java.util.Arrays.equals(host, back), "the bytes copied host to device to device to host are the same");
        cudaMemset(second, 0x5a, BYTES / 2);
        cudaMemcpy(Pointer.to(back), second, BYTES, cudaMemcpyDeviceToHost);
        for (int i = 0; i < BYTES; i++)
        {
            check(back[i] == (i < BYTES / 2 ? 0x5a : host[i]), "byte " + i + " after the memset");
        }
        cudaFree(first);
        cudaFree(second);
        System.out.println("JCudaRuntimeCopies: " + properties.getName() + ", " + (total[0] >> 20) + " MiB, copies and memset PASSED");
    }

    private static void check(final boolean condition, final String what)
    {
        if (!condition)
        {
            System.out.println("JCudaRuntimeCopies: FAILED: " + what);
            System.exit(1);
        }
    }
}
