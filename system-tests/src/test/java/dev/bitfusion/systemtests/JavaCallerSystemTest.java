package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.cuda.CuResult;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.cuda.CuResult.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A Java caller of the client runtime gets what a C program gets: the checks of examples/cuda/driver_api.c
 * (which runs in the bridge suites through our libcuda.so.1) made again from Java, call for call, against a
 * real server; and mapped host memory, whose coherence rules the runtime owns, driven the same way. Host
 * memory and out parameters are native memory, as a C program's are.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JavaCallerSystemTest
{
    private static final int CU_STREAM_NON_BLOCKING = 0x1;
    private static final int CU_MEMHOSTALLOC_DEVICEMAP = 0x2;
    private static final long CU_LAUNCH_PARAM_BUFFER_POINTER = 0x01;
    private static final long CU_LAUNCH_PARAM_BUFFER_SIZE = 0x02;

    private final List<NativeBuffer> buffers = new ArrayList<>();
    private ServerProcess server;
    private RemoteDriver driver;

    @BeforeAll
    static void buildExamples() throws Exception
    {
        CudaExamples.buildAll();
    }

    @BeforeEach
    void startServerAndDriver() throws Exception
    {
        server = ServerProcess.start(1024);
        driver = new RemoteDriver(new ClientSettings().server(server.endpoint()).memoryMb(256),
            new PrintStream(OutputStream.nullOutputStream()));
        check(driver.cuInit(0), "cuInit");
    }

    @AfterEach
    void closeAll()
    {
        CloseHelper.quietCloseAll(driver, server);
        buffers.forEach(NativeBuffer::close);
    }

    @Test
    void shouldPassTheDriverApiExamplesChecksFromJava() throws Exception
    {
        final NativeBuffer out = buffer(64);
        check(driver.devices().cuDeviceGetCount(out.address()), "cuDeviceGetCount");
        assertEquals(1, out.getInt(0));
        check(driver.devices().cuDeviceTotalMem(out.address(), 0), "cuDeviceTotalMem");
        final long totalMem = out.getLong(0);

        check(driver.contexts().cuCtxCreate(out.address(), 0, 0), "cuCtxCreate");
        final long context = out.getLong(0);
        check(driver.contexts().cuCtxGetCurrent(out.address()), "cuCtxGetCurrent");
        assertEquals(context, out.getLong(0), "the new context is current");
        check(driver.memory().cuMemGetInfo(out.address(), out.address(8)), "cuMemGetInfo");
        assertEquals(totalMem, out.getLong(8), "cuMemGetInfo's total is the slice");

        final long fromPtx = DriverCalls.loadModule(driver, Files.readAllBytes(file("driver_kernels.ptx")));
        final long fromFatbin = DriverCalls.loadModule(driver, Files.readAllBytes(file("driver_kernels.fatbin")));
        check(driver.streams().cuStreamCreate(out.address(), CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        final long stream = out.getLong(0);
        check(driver.streams().cuStreamGetFlags(stream, out.address()), "cuStreamGetFlags");
        assertEquals(CU_STREAM_NON_BLOCKING, out.getInt(0));
        check(driver.streams().cuStreamGetCtx(stream, out.address()), "cuStreamGetCtx");
        assertEquals(context, out.getLong(0));
        check(driver.streams().cuStreamGetId(stream, out.address()), "cuStreamGetId");
        final long streamId = out.getLong(0);
        check(driver.streams().cuStreamGetId(0, out.address()), "cuStreamGetId");
        assertEquals(false, streamId == out.getLong(0), "a created stream's id is not the default stream's");

        saxpy(fromPtx, 0);
        saxpy(fromFatbin, stream);

        // fill, cuMemsetD32 and a device-to-device copy.
        final int m = 1000;
        final long a = DriverCalls.alloc(driver, 4L * m);
        final long b = DriverCalls.alloc(driver, 4L * m);
        check(driver.memory().cuMemsetD32(b, 0xdeadbeef, m), "cuMemsetD32");
        final long fill = DriverCalls.function(driver, fromFatbin, "fill");
        launch(fill, 4, 128, 0, a, 100, m / 2);
        check(driver.memory().cuMemcpyDtoD(b, a, 4L * (m / 2)), "cuMemcpyDtoD");
        final NativeBuffer host = buffer(4 * m);
        check(driver.memory().cuMemcpyDtoH(host.address(), b, 4L * m), "cuMemcpyDtoH");
        for (int i = 0; i < m; i++)
        {
            assertEquals(i < m / 2 ? 100 + i : 0xdeadbeef, host.getInt(4 * i, ByteOrder.LITTLE_ENDIAN), "b[" + i + "]");
        }

        // A __device__ global, found by name and written by atomics.
        final long count = DriverCalls.function(driver, fromPtx, "count");
        check(driver.modules().cuModuleGetGlobal(out.address(), out.address(8), fromPtx, cString("counter").address()),
            "cuModuleGetGlobal");
        final long counter = out.getLong(0);
        assertEquals(4, out.getLong(8));
        final NativeBuffer value = buffer(4);
        check(driver.memory().cuMemcpyHtoD(counter, value.address(), 4), "cuMemcpyHtoD");
        launch(count, 3, 64, stream, 50);
        check(driver.streams().cuStreamSynchronize(stream), "cuStreamSynchronize");
        check(driver.memory().cuMemcpyDtoH(value.address(), counter, 4), "cuMemcpyDtoH");
        assertEquals(150, value.getInt(0));

        // Parameters packed in one buffer (extra), and cuLaunchKernelEx with a single-block cluster shape.
        final NativeBuffer packed = buffer(16);
        packed.putLong(0, a);
        packed.putInt(8, 7);
        packed.putInt(12, m);
        final NativeBuffer packedSize = buffer(8);
        packedSize.putLong(0, 16);
        final NativeBuffer extra = buffer(40);
        extra.putLong(0, CU_LAUNCH_PARAM_BUFFER_POINTER);
        extra.putLong(8, packed.address());
        extra.putLong(16, CU_LAUNCH_PARAM_BUFFER_SIZE);
        extra.putLong(24, packedSize.address());
        check(driver.launches().cuLaunchKernel(fill, 8, 1, 1, 128, 1, 1, 0, 0, 0, extra.address()), "packed launch");
        expectFilled(a, m, 7, host);

        try (NativeBuffer config = DriverCalls.launchConfig(8, 128, 0, stream, 1);
            NativeBuffer parameters = DriverCalls.kernelParams(a, 500, m))
        {
            check(driver.launches().cuLaunchKernelEx(config.address(), fill, parameters.address(), 0), "cuLaunchKernelEx");
        }
        check(driver.streams().cuStreamSynchronize(stream), "cuStreamSynchronize");
        expectFilled(a, m, 500, host);

        // What a function is, as the driver tells it.
        check(driver.functions().cuFuncGetName(out.address(), fill), "cuFuncGetName");
        assertEquals("fill", cStringAt(out.getLong(0)));
        check(driver.functions().cuFuncGetModule(out.address(), fill), "cuFuncGetModule");
        assertEquals(fromFatbin, out.getLong(0));
        check(driver.functions().cuFuncGetParamInfo(fill, 1, out.address(), out.address(8)), "cuFuncGetParamInfo");
        assertEquals(8, out.getLong(0));
        assertEquals(4, out.getLong(8));
        assertEquals(CUDA_ERROR_INVALID_VALUE, driver.functions().cuFuncGetParamInfo(fill, 3, out.address(), out.address(8)));

        // Modules and libraries straight from their files.
        check(driver.modules().cuModuleLoad(out.address(), cString(file("driver_kernels.ptx").toString()).address()), "cuModuleLoad");
        final long fromFile = out.getLong(0);
        DriverCalls.function(driver, fromFile, "saxpy");
        check(driver.modules().cuModuleUnload(fromFile), "cuModuleUnload");
        check(driver.modules().cuLibraryLoadFromFile(out.address(), cString(file("driver_kernels.fatbin").toString()).address(),
            0, 0, 0, 0, 0, 0), "cuLibraryLoadFromFile");
        final long library = out.getLong(0);
        check(driver.modules().cuModuleGetFunction(out.address(), library, cString("fill").address()), "cuLibraryGetKernel");
        final long kernel = out.getLong(0);
        check(driver.modules().cuKernelGetFunction(out.address(), kernel), "cuKernelGetFunction");
        launch(out.getLong(0), 8, 128, 0, a, 9000, m);
        expectFilled(a, m, 9000, host);
        check(driver.modules().cuModuleUnload(library), "cuLibraryUnload");

        assertEquals(CUDA_ERROR_NOT_FOUND, driver.modules().cuModuleGetFunction(out.address(), fromPtx, cString("missing").address()));
        check(driver.streams().cuStreamDestroy(stream), "cuStreamDestroy");
        check(driver.memory().cuMemFree(a), "cuMemFree");
        check(driver.memory().cuMemFree(b), "cuMemFree");
        check(driver.contexts().cuCtxDestroy(context), "cuCtxDestroy");
    }

    @Test
    void shouldKeepMappedHostMemoryCoherentAtLaunchesAndSynchronisations() throws Exception
    {
        final NativeBuffer out = buffer(16);
        check(driver.contexts().cuDevicePrimaryCtxRetain(out.address(), 0), "cuDevicePrimaryCtxRetain");
        check(driver.contexts().cuCtxSetCurrent(out.getLong(0)), "cuCtxSetCurrent");
        final long module = DriverCalls.loadModule(driver, Files.readAllBytes(file("driver_kernels.ptx")));
        final int n = 256;
        check(driver.hostMemory().cuMemHostAlloc(out.address(), 4L * n, CU_MEMHOSTALLOC_DEVICEMAP), "cuMemHostAlloc");
        final long mapped = out.getLong(0);
        check(driver.hostMemory().cuMemHostGetDevicePointer(out.address(), mapped, 0), "cuMemHostGetDevicePointer");
        final long onDevice = out.getLong(0);

        // The kernel is given the host address itself, as unified addressing allows: the runtime rewrites it.
        launch(DriverCalls.function(driver, module, "fill"), 1, n, 0, mapped, 40, n);
        check(driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize");
        final UnsafeBuffer view = new UnsafeBuffer(mapped, 4 * n);
        for (int i = 0; i < n; i++)
        {
            assertEquals(40 + i, view.getInt(4 * i), "the GPU's write is seen on the host after a synchronisation");
        }

        view.putInt(0, -5);
        final long copy = DriverCalls.alloc(driver, 4L * n);
        check(driver.memory().cuMemcpyDtoD(copy, onDevice, 4L * n), "cuMemcpyDtoD");
        launch(DriverCalls.function(driver, module, "count"), 1, 1, 0, 0);
        final NativeBuffer host = buffer(4 * n);
        check(driver.memory().cuMemcpyDtoH(host.address(), onDevice, 4L * n), "cuMemcpyDtoH");
        assertEquals(-5, host.getInt(0), "the host's write reached the device copy before the launch");
        check(driver.hostMemory().cuMemFreeHost(mapped), "cuMemFreeHost");
    }

    private void saxpy(final long module, final long stream)
    {
        final int n = 3000;
        final NativeBuffer x = buffer(4 * n);
        final NativeBuffer y = buffer(4 * n);
        for (int i = 0; i < n; i++)
        {
            x.putFloat(4 * i, i);
            y.putFloat(4 * i, 1.0f);
        }
        final long saxpy = DriverCalls.function(driver, module, "saxpy");
        final long dx = DriverCalls.alloc(driver, 4L * n);
        final long dy = DriverCalls.alloc(driver, 4L * n);
        check(driver.memory().cuMemcpyHtoDAsync(dx, x.address(), 4L * n, stream), "cuMemcpyHtoDAsync");
        check(driver.memory().cuMemcpyHtoDAsync(dy, y.address(), 4L * n, stream), "cuMemcpyHtoDAsync");
        launch(saxpy, (n + 127) / 128, 128, stream, 2.0f, dx, dy, n);
        check(driver.memory().cuMemcpyDtoHAsync(y.address(), dy, 4L * n, stream), "cuMemcpyDtoHAsync");
        check(driver.streams().cuStreamSynchronize(stream), "cuStreamSynchronize");
        for (int i = 0; i < n; i++)
        {
            assertEquals(2.0f * i + 1.0f, y.getFloat(4 * i), "y[" + i + "]");
        }
        check(driver.memory().cuMemFree(dx), "cuMemFree");
        check(driver.memory().cuMemFree(dy), "cuMemFree");
    }

    private void expectFilled(final long device, final int n, final int first, final NativeBuffer host)
    {
        check(driver.memory().cuMemcpyDtoH(host.address(), device, 4L * n), "cuMemcpyDtoH");
        for (int i = 0; i < n; i++)
        {
            assertEquals(first + i, host.getInt(4 * i), "a[" + i + "]");
        }
    }

    private void launch(
        final long function, final int blocks, final int threads, final long stream, final Object... parameters)
    {
        check(DriverCalls.launch(driver, function, blocks, threads, 0, stream, parameters), "cuLaunchKernel");
    }

    /** A C string that lives as long as the test. */
    private NativeBuffer cString(final String text)
    {
        final NativeBuffer string = DriverCalls.cString(text);
        buffers.add(string);
        return string;
    }

    private static String cStringAt(final long address)
    {
        final UnsafeBuffer text = new UnsafeBuffer(address, 4096);
        int length = 0;
        while (text.getByte(length) != 0)
        {
            length++;
        }
        return text.getStringWithoutLengthUtf8(0, length);
    }

    private NativeBuffer buffer(final int bytes)
    {
        final NativeBuffer buffer = NativeBuffer.allocate(bytes);
        buffers.add(buffer);
        return buffer;
    }

    private static Path file(final String name)
    {
        return Path.of(CudaExamples.binary(name));
    }

    private void check(final int status, final String call)
    {
        assertEquals(CUDA_SUCCESS, status, () -> call + ": " + CuResult.describe(status) +
            (driver.lastError() != null ? " (" + driver.lastError() + ")" : ""));
    }
}
