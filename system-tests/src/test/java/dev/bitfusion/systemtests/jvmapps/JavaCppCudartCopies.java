package dev.bitfusion.systemtests.jvmapps;

import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

import static org.bytedeco.cuda.global.cudart.*;

/**
 * A program on JavaCPP's CUDA presets (cudart, over the toolkit's libcudart.so.13): the device, the slice's
 * memory, allocations, copies in every direction and a memset, each byte checked; prints PASSED only when all
 * hold.
 * <p>
 * Arguments: SLICE_MIB, the slice the program should see as the device's memory.
 */
public final class JavaCppCudartCopies
{
    private static final int BYTES = 1 << 20;

    private JavaCppCudartCopies()
    {
    }

    public static void main(final String[] args)
    {
        final IntPointer count = new IntPointer(1);
        check(cudaGetDeviceCount(count), "cudaGetDeviceCount");
        final cudaDeviceProp properties = new cudaDeviceProp();
        check(cudaGetDeviceProperties(properties, 0), "cudaGetDeviceProperties");
        final SizeTPointer free = new SizeTPointer(1);
        final SizeTPointer total = new SizeTPointer(1);
        check(cudaMemGetInfo(free, total), "cudaMemGetInfo");
        final long sliceMib = Long.parseLong(args[0]);
        expect(count.get() == 1, "one device, got " + count.get());
        expect(total.get() == sliceMib << 20, "total memory " + total.get() + " is the slice of " + sliceMib + " MiB");

        final BytePointer host = new BytePointer(BYTES);
        for (int i = 0; i < BYTES; i++)
        {
            host.put(i, (byte)(i * 31 + 7));
        }
        final Pointer first = new Pointer();
        final Pointer second = new Pointer();
        check(cudaMalloc(first, BYTES), "cudaMalloc");
        check(cudaMalloc(second, BYTES), "cudaMalloc");
        check(cudaMemcpy(first, host, BYTES, cudaMemcpyHostToDevice), "cudaMemcpy H2D");
        check(cudaMemcpy(second, first, BYTES, cudaMemcpyDeviceToDevice), "cudaMemcpy D2D");
        check(cudaMemset(second, 0x5a, BYTES / 2), "cudaMemset");
        final BytePointer back = new BytePointer(BYTES);
        check(cudaMemcpy(back, second, BYTES, cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
        for (int i = 0; i < BYTES; i++)
        {
            expect(back.get(i) == (i < BYTES / 2 ? 0x5a : host.get(i)), "byte " + i + " after the copies and the memset");
        }
        check(cudaFree(first), "cudaFree");
        check(cudaFree(second), "cudaFree");
        System.out.println("JavaCppCudartCopies: " + properties.name().getString() + ", " + (total.get() >> 20) +
            " MiB, copies and memset PASSED");
    }

    private static void check(final int status, final String call)
    {
        expect(status == cudaSuccess, call + " returned " + status + " (" + cudaGetErrorString(status).getString() + ")");
    }

    private static void expect(final boolean condition, final String what)
    {
        if (!condition)
        {
            System.out.println("JavaCppCudartCopies: FAILED: " + what);
            System.exit(1);
        }
    }
}
