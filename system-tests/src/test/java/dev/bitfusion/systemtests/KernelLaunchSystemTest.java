package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.RemoteDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.bitfusion.systemtests.Drivers.*;
import static dev.bitfusion.cuda.CuResult.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * nvcc-built kernels (the emulator's committed fixtures) loaded and launched through RemoteDriver on a
 * server process: the module travels over the wire, arguments are packed by the layout the server
 * reports, device printf comes back to the client, and a faulting kernel poisons its context.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KernelLaunchSystemTest
{
    private static final Path KERNELS = Path.of("..", "emulator", "src", "test", "resources", "kernels");
    private static ServerProcess server;
    private RemoteDriver driver;
    private final ByteArrayOutputStream deviceOutput = new ByteArrayOutputStream();

    @BeforeAll
    static void startServer() throws Exception
    {
        server = ServerProcess.start(1024);
    }

    @AfterAll
    static void stopServer() throws Exception
    {
        server.close();
    }

    @AfterEach
    void closeDriver()
    {
        if (driver != null)
        {
            driver.close();
        }
    }

    private RemoteDriver open(final String transport)
    {
        driver = new RemoteDriver(new ClientSettings().server(server.endpoint()).transport(transport)
            .memoryFraction(0.5), new PrintStream(deviceOutput, true, StandardCharsets.UTF_8));
        ok(driver.cuInit(0), "cuInit", driver);
        makePrimaryCurrent(driver);
        return driver;
    }

    private long loadFunction(final String fixture, final String entry) throws Exception
    {
        final long[] module = new long[1];
        ok(driver.cuModuleLoadData(module, Files.readAllBytes(KERNELS.resolve(fixture))), "cuModuleLoadData", driver);
        final long[] function = new long[1];
        ok(driver.cuModuleGetFunction(function, module[0], entry), "cuModuleGetFunction", driver);
        return function[0];
    }

    @ParameterizedTest
    @ValueSource(strings = { "vector_add.ptx", "vector_add.fatbin" })
    void shouldAddVectorsOfAMillionElementsOnTheRemoteGpu(final String fixture) throws Exception
    {
        open("udp");
        addVectors(loadFunction(fixture, "vectorAdd"), 1 << 20);
    }

    @org.junit.jupiter.api.Test
    void shouldSendTheWholeFatbinWhenTheGpuRefusesTheCutDownOne() throws Exception
    {
        // vector_add.fatbin's PTX relabelled compute_90, behind machine code for sm_80: cut down for the
        // emulated 8.0 GPU, only the machine code is left, which the emulator cannot run; the whole image
        // follows, and the emulator runs its PTX.
        final ByteBuffer fatbin = ByteBuffer.wrap(Files.readAllBytes(KERNELS.resolve("vector_add.fatbin")))
            .order(ByteOrder.LITTLE_ENDIAN);
        final int entriesBytes = (int)fatbin.getLong(8);
        assertEquals(16 + entriesBytes, fatbin.capacity(), "one container, as build-kernels.sh makes it");
        fatbin.putInt(16 + 28, 90);
        final ByteBuffer image = ByteBuffer.allocate(fatbin.capacity() + 72).order(ByteOrder.LITTLE_ENDIAN);
        image.put(fatbin.array(), 0, 16).putLong(8, entriesBytes + 72);
        image.putShort(16, (short)2).putInt(16 + 4, 64).putLong(16 + 8, 8).putInt(16 + 28, 80).position(16 + 72);
        image.put(fatbin.array(), 16, entriesBytes);

        open("ipc");
        final long[] module = new long[1];
        ok(driver.cuModuleLoadData(module, image.array()), "cuModuleLoadData", driver);
        final long[] function = new long[1];
        ok(driver.cuModuleGetFunction(function, module[0], "vectorAdd"), "cuModuleGetFunction", driver);
        addVectors(function[0], 4096);
    }

    private void addVectors(final long vectorAdd, final int n)
    {
        final float[] a = new float[n];
        final float[] b = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = i * 0.5f;
            b[i] = 1000 - i;
        }
        final long da = alloc(driver, 4L * n);
        final long db = alloc(driver, 4L * n);
        final long dc = alloc(driver, 4L * n);
        ok(driver.cuMemcpyHtoD(da, floats(a), 0, 4L * n), "cuMemcpyHtoD", driver);
        ok(driver.cuMemcpyHtoD(db, floats(b), 0, 4L * n), "cuMemcpyHtoD", driver);
        ok(driver.cuLaunchKernel(vectorAdd, n / 256, 1, 1, 256, 1, 1, 0, 0,
            new byte[][]{ i64(da), i64(db), i64(dc), i32(n) }), "cuLaunchKernel", driver);
        final byte[] result = new byte[4 * n];
        ok(driver.cuMemcpyDtoH(result, 0, dc, 4L * n), "cuMemcpyDtoH", driver);
        final ByteBuffer sums = ByteBuffer.wrap(result).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++)
        {
            assertEquals(a[i] + b[i], sums.getFloat(4 * i), "element " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldBringDevicePrintfBackToTheClient(final String transport) throws Exception
    {
        open(transport);
        final long printf = loadFunction("printf_kernel.fatbin", "printfKernel");
        ok(driver.cuLaunchKernel(printf, 1, 1, 1, 32, 1, 1, 0, 0,
            new byte[][]{ i32(10), ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).array() }),
            "cuLaunchKernel", driver);
        ok(driver.cuCtxSynchronize(), "cuCtxSynchronize", driver);
        final String printed = deviceOutput.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("block 0 thread 1 value 11 scaled 1.500\n"), printed);
        assertTrue(printed.contains("mixed 4000000000 -1234567890123 beef Z done 1.500000e+00\n"), printed);
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldMakeAnIllegalAddressStickyForTheContext(final String transport) throws Exception
    {
        open(transport);
        final long fault = loadFunction("fault.ptx", "faultKernel");
        final long data = alloc(driver, 64 * 4);
        ok(driver.cuLaunchKernel(fault, 2, 1, 1, 32, 1, 1, 0, 0, new byte[][]{ i64(data), i64(0) }),
            "a launch inside the allocation", driver);
        ok(driver.cuCtxSynchronize(), "cuCtxSynchronize", driver);
        ok(driver.cuLaunchKernel(fault, 2, 1, 1, 32, 1, 1, 0, 0, new byte[][]{ i64(data), i64(1L << 36) }),
            "the faulting launch is queued", driver);
        expect(CUDA_ERROR_ILLEGAL_ADDRESS, driver.cuCtxSynchronize(), "sync after the fault");
        expect(CUDA_ERROR_ILLEGAL_ADDRESS, driver.cuMemcpyDtoH(new byte[4], 0, data, 4), "later calls");
        expect(CUDA_ERROR_INVALID_VALUE, driver.cuLaunchKernel(fault, 1, 1, 1, 1, 1, 1, 0, 0, new byte[][]{ i64(data) }),
            "a launch with the wrong number of arguments");
    }

    @org.junit.jupiter.api.Test
    void shouldReportWhyAModuleWithoutPtxCannotLoad() throws Exception
    {
        open("udp");
        final long[] module = new long[1];
        expect(CUDA_ERROR_NO_BINARY_FOR_GPU,
            driver.cuModuleLoadData(module, Files.readAllBytes(KERNELS.resolve("sass_only.fatbin"))), "load SASS only");
        assertTrue(driver.lastError().contains("sm_90"), driver.lastError());
        ok(driver.cuModuleLoadData(module, Files.readAllBytes(KERNELS.resolve("vector_add.ptx"))), "load PTX", driver);
        final long[] function = new long[1];
        expect(CUDA_ERROR_NOT_FOUND, driver.cuModuleGetFunction(function, module[0], "noSuchKernel"), "unknown name");
        ok(driver.cuModuleGetFunction(function, module[0], "vectorAdd"), "cuModuleGetFunction", driver);
        final int[] value = new int[1];
        ok(driver.cuFuncGetAttribute(value, 0, function[0]), "cuFuncGetAttribute(MAX_THREADS_PER_BLOCK)", driver);
        assertTrue(value[0] > 0 && value[0] <= 1024, "max threads " + value[0]);
        ok(driver.cuFuncGetAttribute(value, 8, function[0]), "cuFuncGetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)", driver);
        assertEquals(48 * 1024, value[0], "the default dynamic shared limit of a kernel without static shared memory");
        ok(driver.cuFuncSetAttribute(function[0], 8, 16 * 1024), "a dynamic shared limit within 48 KiB", driver);
        ok(driver.cuFuncGetAttribute(value, 8, function[0]), "the limit read back", driver);
        assertEquals(16 * 1024, value[0], "a setting replaces what was read before it");
        final int n = 64;
        final long buffer = alloc(driver, 3 * 4 * n);
        final byte[][] arguments = { i64(buffer), i64(buffer + 4 * n), i64(buffer + 8 * n), i32(n) };
        expect(CUDA_ERROR_INVALID_VALUE, driver.cuLaunchKernel(function[0], 1, 1, 1, n, 1, 1, 32 * 1024, 0, arguments),
            "a launch asking for more dynamic shared memory than the kernel's limit");
        ok(driver.cuLaunchKernel(function[0], 1, 1, 1, n, 1, 1, 16 * 1024, 0, arguments), "a launch within it", driver);
        ok(driver.cuCtxSynchronize(), "cuCtxSynchronize", driver);
        ok(driver.cuFuncSetAttribute(function[0], 8, 16 * 1024), "the same limit again", driver);
        expect(CUDA_ERROR_INVALID_VALUE, driver.cuFuncSetAttribute(function[0], 8, 100 * 1024),
            "an opt-in past the emulated GPU's 48 KiB");
        ok(driver.cuFuncGetAttribute(value, 8, function[0]), "the limit after a refused setting", driver);
        assertEquals(16 * 1024, value[0], "a refused setting leaves the limit as it was");
        expect(CUDA_ERROR_NOT_SUPPORTED, driver.cuFuncSetAttribute(function[0], 99, 1), "an unknown attribute");
        ok(driver.cuModuleUnload(module[0]), "cuModuleUnload", driver);
        expect(CUDA_ERROR_INVALID_HANDLE, driver.cuFuncGetAttribute(value, 0, function[0]), "a function of an unloaded module");
        expect(CUDA_ERROR_INVALID_HANDLE, driver.cuFuncSetAttribute(function[0], 8, 16 * 1024),
            "setting an attribute of a function of an unloaded module");
        expect(CUDA_ERROR_INVALID_HANDLE, driver.cuFuncGetParamInfo(function[0], 0, new long[2]),
            "the parameters of a function of an unloaded module");
    }

    @org.junit.jupiter.api.Test
    void shouldRunClustersOfOneBlockAndRefuseLargerOnesOnAGpuWithoutClusters() throws Exception
    {
        open("ipc");
        final long add = loadFunction("vector_add.ptx", "vectorAdd");
        final int n = 512;
        final float[] a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = i;
        }
        final long da = alloc(driver, 4 * n);
        final long dc = alloc(driver, 4 * n);
        ok(driver.cuMemcpyHtoD(da, floats(a), 0, 4 * n), "cuMemcpyHtoD", driver);
        ok(driver.cuLaunchKernelEx(add, n / 128, 1, 1, 128, 1, 1, 0, 0, 1, 1, 1,
            new byte[][]{ i64(da), i64(da), i64(dc), i32(n) }), "clusters of one block", driver);
        final byte[] sums = new byte[4 * n];
        ok(driver.cuMemcpyDtoH(sums, 0, dc, 4 * n), "cuMemcpyDtoH", driver);
        final ByteBuffer view = ByteBuffer.wrap(sums).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++)
        {
            assertEquals(2 * i, view.getFloat(4 * i), "element " + i);
        }
        ok(driver.cuLaunchKernelEx(add, n / 128, 1, 1, 128, 1, 1, 0, 0, 2, 1, 1,
            new byte[][]{ i64(da), i64(da), i64(dc), i32(n) }), "a cluster launch is queued", driver);
        expect(CUDA_ERROR_NOT_SUPPORTED, driver.cuCtxSynchronize(), "clusters of two on a compute capability 8.0 GPU");

        final int[] clusters = new int[1];
        expect(CUDA_ERROR_NOT_SUPPORTED, driver.cuOccupancyClusters(clusters, RemoteDriver.MAX_ACTIVE_CLUSTERS, add,
            new int[]{ 4, 1, 1 }, new int[]{ 128, 1, 1 }, 0, new int[]{ 2, 1, 1 }), "cluster occupancy without clusters");
        assertTrue(driver.lastError().contains("compute capability 9.0"), driver.lastError());
        expect(CUDA_ERROR_INVALID_HANDLE, driver.cuOccupancyClusters(clusters, RemoteDriver.MAX_ACTIVE_CLUSTERS, 0x4242,
            new int[]{ 4, 1, 1 }, new int[]{ 128, 1, 1 }, 0, new int[]{ 2, 1, 1 }), "an unknown function");
    }

    @org.junit.jupiter.api.Test
    void shouldLoadLibrariesLazilyAndFailAnImageWithoutPtxAtItsFirstLookupOnly() throws Exception
    {
        open("ipc");
        final AtomicInteger sassReads = new AtomicInteger();
        final byte[] sass = Files.readAllBytes(KERNELS.resolve("sass_only.fatbin"));
        final long[] library = new long[1];
        ok(driver.cuLibraryLoadData(library, () ->
        {
            sassReads.incrementAndGet();
            return sass;
        }), "a library the emulated GPU cannot run loads, as under CUDA's lazy loading", driver);
        assertEquals(0, sassReads.get(), "the image must not travel before it is used");
        final long[] function = new long[1];
        expect(CUDA_ERROR_NO_BINARY_FOR_GPU, driver.cuModuleGetFunction(function, library[0], "vectorAdd"),
            "the first kernel lookup");
        assertTrue(driver.lastError().contains("sm_90"), driver.lastError());
        expect(CUDA_ERROR_NO_BINARY_FOR_GPU, driver.cuModuleGetFunction(function, library[0], "vectorAdd"),
            "a second lookup");
        assertEquals(1, sassReads.get(), "an image that cannot load is sent once");
        ok(driver.cuModuleUnload(library[0]), "unloading the unloadable library", driver);
        expect(CUDA_ERROR_INVALID_HANDLE, driver.cuModuleGetFunction(function, library[0], "vectorAdd"),
            "a lookup in the unloaded library");

        final AtomicInteger ptxReads = new AtomicInteger();
        final byte[] ptx = Files.readAllBytes(KERNELS.resolve("vector_add.ptx"));
        ok(driver.cuLibraryLoadData(library, () ->
        {
            ptxReads.incrementAndGet();
            return ptx;
        }), "cuLibraryLoadData(PTX)", driver);
        assertEquals(0, ptxReads.get());
        ok(driver.cuModuleGetFunction(function, library[0], "vectorAdd"), "the first lookup ships the library", driver);
        final long[] another = new long[1];
        ok(driver.cuModuleGetFunction(another, library[0], "vectorAdd"), "a second lookup", driver);
        assertEquals(1, ptxReads.get(), "a library ships once");
        final int n = 256;
        final float[] a = new float[n];
        final float[] b = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = i;
            b[i] = 2 * i;
        }
        final long da = alloc(driver, 4 * n);
        final long db = alloc(driver, 4 * n);
        final long dc = alloc(driver, 4 * n);
        ok(driver.cuMemcpyHtoD(da, floats(a), 0, 4 * n), "cuMemcpyHtoD", driver);
        ok(driver.cuMemcpyHtoD(db, floats(b), 0, 4 * n), "cuMemcpyHtoD", driver);
        ok(driver.cuLaunchKernel(function[0], 1, 1, 1, n, 1, 1, 0, 0,
            new byte[][]{ i64(da), i64(db), i64(dc), i32(n) }), "cuLaunchKernel", driver);
        final byte[] sums = new byte[4 * n];
        ok(driver.cuMemcpyDtoH(sums, 0, dc, 4 * n), "cuMemcpyDtoH", driver);
        final ByteBuffer view = ByteBuffer.wrap(sums).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++)
        {
            assertEquals(3 * i, view.getFloat(4 * i), "element " + i);
        }
        ok(driver.cuModuleUnload(library[0]), "cuLibraryUnload", driver);
    }

    private static byte[] floats(final float[] values)
    {
        final ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (final float value : values)
        {
            bytes.putFloat(value);
        }
        return bytes.array();
    }

    private static byte[] i64(final long value)
    {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    }

    private static byte[] i32(final int value)
    {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
    }
}
