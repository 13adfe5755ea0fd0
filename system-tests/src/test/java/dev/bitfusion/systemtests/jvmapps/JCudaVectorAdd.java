package dev.bitfusion.systemtests.jvmapps;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static jcuda.driver.JCudaDriver.*;

/**
 * A JCuda driver-API program as users write them: loads a PTX vector add, launches it, and checks every
 * element; prints PASSED only then. Its modes exercise how a JVM ends with a session open:
 * {@code return} (main returns while the transport is up), {@code exit} (System.exit from main, with an
 * application shutdown hook that still makes CUDA calls, as TornadoVM's does), {@code wait} (prints READY and
 * waits for a signal).
 * <p>
 * Arguments: PTX_FILE [return|exit|wait].
 */
public final class JCudaVectorAdd
{
    private static final int ELEMENTS = 4096;

    private JCudaVectorAdd()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final String mode = args.length > 1 ? args[1] : "return";
        JCudaDriver.setExceptionsEnabled(true);
        cuInit(0);
        final CUdevice device = new CUdevice();
        cuDeviceGet(device, 0);
        final byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        final CUcontext context = new CUcontext();
        cuCtxCreate(context, 0, device);
        final CUmodule module = new CUmodule();
        cuModuleLoadData(module, (Files.readString(Path.of(args[0]), StandardCharsets.US_ASCII) + '\0').getBytes(StandardCharsets.US_ASCII));
        final CUfunction function = new CUfunction();
        cuModuleGetFunction(function, module, "vectorAdd");

        final float[] a = new float[ELEMENTS];
        final float[] b = new float[ELEMENTS];
        for (int i = 0; i < ELEMENTS; i++)
        {
            a[i] = i;
            b[i] = 2 * i + 1;
        }
        final long bytes = (long)ELEMENTS * Sizeof.FLOAT;
        final CUdeviceptr da = new CUdeviceptr();
        final CUdeviceptr db = new CUdeviceptr();
        final CUdeviceptr dc = new CUdeviceptr();
        cuMemAlloc(da, bytes);
        cuMemAlloc(db, bytes);
        cuMemAlloc(dc, bytes);
        cuMemcpyHtoD(da, Pointer.to(a), bytes);
        cuMemcpyHtoD(db, Pointer.to(b), bytes);
        final Pointer parameters = Pointer.to(Pointer.to(da), Pointer.to(db), Pointer.to(dc), Pointer.to(new int[] {ELEMENTS}));
        cuLaunchKernel(function, (ELEMENTS + 255) / 256, 1, 1, 256, 1, 1, 0, null, parameters, null);
        cuCtxSynchronize();
        final float[] c = new float[ELEMENTS];
        cuMemcpyDtoH(Pointer.to(c), dc, bytes);
        for (int i = 0; i < ELEMENTS; i++)
        {
            if (c[i] != a[i] + b[i])
            {
                System.out.println("JCudaVectorAdd: FAILED at " + i + ": " + c[i] + " != " + (a[i] + b[i]));
                System.exit(1);
            }
        }
        System.out.println("JCudaVectorAdd: " + ELEMENTS + " elements on " + new String(name, StandardCharsets.US_ASCII).trim() +
            " PASSED");
        switch (mode)
        {
            case "exit" ->
            {
                Runtime.getRuntime().addShutdownHook(new Thread(() ->
                {
                    cuCtxSetCurrent(context);
                    final CUdeviceptr late = new CUdeviceptr();
                    cuMemAlloc(late, 1024);
                    cuMemFree(late);
                    System.out.println("JCudaVectorAdd: CUDA works in the application's shutdown hook");
                }));
                System.exit(0);
            }
            case "wait" ->
            {
                System.out.println("JCudaVectorAdd: READY");
                Thread.sleep(120_000);
            }
            default ->
            {
                // Returns with the session, its Aeron client and keeper threads running.
            }
        }
    }
}
