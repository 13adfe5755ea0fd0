package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.driver.RemoteDriver;
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

import static dev.bitfusion.systemtests.DriverCalls.*;
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
    private static final int CU_LIBRARY_BINARY_IS_PRESERVED = 1;
    private static final long CU_LAUNCH_PARAM_END = 0x00;
    private static final long CU_LAUNCH_PARAM_BUFFER_POINTER = 0x01;
    private static final long CU_LAUNCH_PARAM_BUFFER_SIZE = 0x02;
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
        return function(driver, loadModule(driver, Files.readAllBytes(KERNELS.resolve(fixture))), entry);
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
        addVectors(function(driver, loadModule(driver, image.array()), "vectorAdd"), 4096);
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
        ok(copyToDevice(driver, da, floats(a)), "cuMemcpyHtoD", driver);
        ok(copyToDevice(driver, db, floats(b)), "cuMemcpyHtoD", driver);
        ok(launch(driver, vectorAdd, n / 256, 256, 0, 0, da, db, dc, n), "cuLaunchKernel", driver);
        final byte[] result = new byte[4 * n];
        ok(copyFromDevice(driver, result, dc), "cuMemcpyDtoH", driver);
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
        ok(launch(driver, printf, 1, 32, 0, 0, 10, 1.5f), "cuLaunchKernel", driver);
        ok(driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize", driver);
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
        ok(launch(driver, fault, 2, 32, 0, 0, data, 0L), "a launch inside the allocation", driver);
        ok(driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize", driver);
        ok(launch(driver, fault, 2, 32, 0, 0, data, 1L << 36), "the faulting launch is queued", driver);
        expect(CUDA_ERROR_ILLEGAL_ADDRESS, driver.contexts().cuCtxSynchronize(), "sync after the fault");
        expect(CUDA_ERROR_ILLEGAL_ADDRESS, copyFromDevice(driver, new byte[4], data), "later calls");
        // Parameters packed in one buffer (cuLaunchKernel's extra) come with their size, unlike a void** array.
        try (NativeBuffer extra = NativeBuffer.allocate(7 * Long.BYTES))
        {
            final int packed = 5 * Long.BYTES;
            final int packedSize = 6 * Long.BYTES;
            extra.putLong(0, CU_LAUNCH_PARAM_BUFFER_POINTER);
            extra.putLong(8, extra.address(packed));
            extra.putLong(16, CU_LAUNCH_PARAM_BUFFER_SIZE);
            extra.putLong(24, extra.address(packedSize));
            extra.putLong(32, CU_LAUNCH_PARAM_END);
            extra.putLong(packed, data);
            extra.putLong(packedSize, Long.BYTES);
            expect(CUDA_ERROR_INVALID_VALUE,
                driver.launches().cuLaunchKernel(fault, 1, 1, 1, 1, 1, 1, 0, 0, 0, extra.address()),
                "a launch with the wrong number of arguments");
        }
    }

    @org.junit.jupiter.api.Test
    void shouldReportWhyAModuleWithoutPtxCannotLoad() throws Exception
    {
        open("udp");
        final byte[] sass = Files.readAllBytes(KERNELS.resolve("sass_only.fatbin"));
        expect(CUDA_ERROR_NO_BINARY_FOR_GPU, status(out -> cuModuleLoadData(driver, out, sass)), "load SASS only");
        assertTrue(driver.lastError().contains("sm_90"), driver.lastError());
        final long module = loadModule(driver, Files.readAllBytes(KERNELS.resolve("vector_add.ptx")));
        expect(CUDA_ERROR_NOT_FOUND, status(out -> cuModuleGetFunction(driver, out, module, "noSuchKernel")),
            "unknown name");
        final long function = function(driver, module, "vectorAdd");
        final int maxThreads = intOut(driver, "cuFuncGetAttribute(MAX_THREADS_PER_BLOCK)",
            out -> driver.functions().cuFuncGetAttribute(out, 0, function));
        assertTrue(maxThreads > 0 && maxThreads <= 1024, "max threads " + maxThreads);
        assertEquals(48 * 1024, intOut(driver, "cuFuncGetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)",
            out -> driver.functions().cuFuncGetAttribute(out, 8, function)),
            "the default dynamic shared limit of a kernel without static shared memory");
        ok(driver.functions().cuFuncSetAttribute(function, 8, 16 * 1024), "a dynamic shared limit within 48 KiB", driver);
        assertEquals(16 * 1024, intOut(driver, "the limit read back",
            out -> driver.functions().cuFuncGetAttribute(out, 8, function)),
            "a setting replaces what was read before it");
        final int n = 64;
        final long buffer = alloc(driver, 3 * 4 * n);
        expect(CUDA_ERROR_INVALID_VALUE,
            launch(driver, function, 1, n, 32 * 1024, 0, buffer, buffer + 4 * n, buffer + 8 * n, n),
            "a launch asking for more dynamic shared memory than the kernel's limit");
        ok(launch(driver, function, 1, n, 16 * 1024, 0, buffer, buffer + 4 * n, buffer + 8 * n, n),
            "a launch within it", driver);
        ok(driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize", driver);
        ok(driver.functions().cuFuncSetAttribute(function, 8, 16 * 1024), "the same limit again", driver);
        expect(CUDA_ERROR_INVALID_VALUE, driver.functions().cuFuncSetAttribute(function, 8, 100 * 1024),
            "an opt-in past the emulated GPU's 48 KiB");
        assertEquals(16 * 1024, intOut(driver, "the limit after a refused setting",
            out -> driver.functions().cuFuncGetAttribute(out, 8, function)),
            "a refused setting leaves the limit as it was");
        expect(CUDA_ERROR_NOT_SUPPORTED, driver.functions().cuFuncSetAttribute(function, 99, 1), "an unknown attribute");
        ok(driver.modules().cuModuleUnload(module), "cuModuleUnload", driver);
        expect(CUDA_ERROR_INVALID_HANDLE, status(out -> driver.functions().cuFuncGetAttribute(out, 0, function)),
            "a function of an unloaded module");
        expect(CUDA_ERROR_INVALID_HANDLE, driver.functions().cuFuncSetAttribute(function, 8, 16 * 1024),
            "setting an attribute of a function of an unloaded module");
        expect(CUDA_ERROR_INVALID_HANDLE, status(out -> driver.functions().cuFuncGetParamInfo(function, 0, out, out + 8)),
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
        ok(copyToDevice(driver, da, floats(a)), "cuMemcpyHtoD", driver);
        try (NativeBuffer parameters = kernelParams(da, da, dc, n);
            NativeBuffer clustersOfOne = launchConfig(n / 128, 128, 0, 0, 1);
            NativeBuffer clustersOfTwo = launchConfig(n / 128, 128, 0, 0, 2))
        {
            ok(driver.launches().cuLaunchKernelEx(clustersOfOne.address(), add, parameters.address(), 0),
                "clusters of one block", driver);
            final byte[] sums = new byte[4 * n];
            ok(copyFromDevice(driver, sums, dc), "cuMemcpyDtoH", driver);
            final ByteBuffer view = ByteBuffer.wrap(sums).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++)
            {
                assertEquals(2 * i, view.getFloat(4 * i), "element " + i);
            }
            ok(driver.launches().cuLaunchKernelEx(clustersOfTwo.address(), add, parameters.address(), 0),
                "a cluster launch is queued", driver);
            expect(CUDA_ERROR_NOT_SUPPORTED, driver.contexts().cuCtxSynchronize(),
                "clusters of two on a compute capability 8.0 GPU");
        }

        try (NativeBuffer config = launchConfig(4, 128, 0, 0, 2))
        {
            expect(CUDA_ERROR_NOT_SUPPORTED,
                status(out -> driver.functions().cuOccupancyMaxActiveClusters(out, add, config.address())),
                "cluster occupancy without clusters");
            assertTrue(driver.lastError().contains("compute capability 9.0"), driver.lastError());
            expect(CUDA_ERROR_INVALID_HANDLE,
                status(out -> driver.functions().cuOccupancyMaxActiveClusters(out, 0x4242, config.address())),
                "an unknown function");
        }
    }

    @org.junit.jupiter.api.Test
    void shouldLoadLibrariesLazilyAndFailAnImageWithoutPtxAtItsFirstLookupOnly() throws Exception
    {
        open("ipc");
        // Preserved images (CU_LIBRARY_BINARY_IS_PRESERVED) stay where the program keeps them and are read
        // when the library ships: zeroing one after it shipped shows whether the driver sends it again.
        try (NativeBuffer sass = imageOf(Files.readAllBytes(KERNELS.resolve("sass_only.fatbin"))))
        {
            final long library = loadPreservedLibrary(sass,
                "a library the emulated GPU cannot run loads, as under CUDA's lazy loading");
            assertTrue(driver.modules().isUnshippedLibrary(library), "the image must not travel before it is used");
            expect(CUDA_ERROR_NO_BINARY_FOR_GPU, status(out -> cuModuleGetFunction(driver, out, library, "vectorAdd")),
                "the first kernel lookup");
            assertTrue(driver.lastError().contains("sm_90"), driver.lastError());
            sass.setMemory(0, sass.capacity(), (byte)0);
            expect(CUDA_ERROR_NO_BINARY_FOR_GPU, status(out -> cuModuleGetFunction(driver, out, library, "vectorAdd")),
                "a second lookup: an image that cannot load is sent once");
            ok(driver.modules().cuModuleUnload(library), "unloading the unloadable library", driver);
            expect(CUDA_ERROR_INVALID_HANDLE, status(out -> cuModuleGetFunction(driver, out, library, "vectorAdd")),
                "a lookup in the unloaded library");
        }

        try (NativeBuffer ptx = imageOf(Files.readAllBytes(KERNELS.resolve("vector_add.ptx"))))
        {
            final long library = loadPreservedLibrary(ptx, "cuLibraryLoadData(PTX)");
            assertTrue(driver.modules().isUnshippedLibrary(library), "the image must not travel before it is used");
            final long function = longOut(driver, "the first lookup ships the library",
                out -> cuModuleGetFunction(driver, out, library, "vectorAdd"));
            ptx.setMemory(0, ptx.capacity(), (byte)0);
            ok(status(out -> cuModuleGetFunction(driver, out, library, "vectorAdd")), "a second lookup", driver);
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
            ok(copyToDevice(driver, da, floats(a)), "cuMemcpyHtoD", driver);
            ok(copyToDevice(driver, db, floats(b)), "cuMemcpyHtoD", driver);
            ok(launch(driver, function, 1, n, 0, 0, da, db, dc, n), "cuLaunchKernel", driver);
            final byte[] sums = new byte[4 * n];
            ok(copyFromDevice(driver, sums, dc), "cuMemcpyDtoH", driver);
            final ByteBuffer view = ByteBuffer.wrap(sums).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++)
            {
                assertEquals(3 * i, view.getFloat(4 * i), "element " + i + ": a library ships once");
            }
            ok(driver.modules().cuModuleUnload(library), "cuLibraryUnload", driver);
        }
    }

    /**
     * cuLibraryLoadData of an image the program promises to keep (CU_LIBRARY_BINARY_IS_PRESERVED).
     */
    private long loadPreservedLibrary(final NativeBuffer image, final String what)
    {
        try (NativeBuffer options = NativeBuffer.allocate(Integer.BYTES);
            NativeBuffer values = NativeBuffer.allocate(Long.BYTES))
        {
            options.putInt(0, CU_LIBRARY_BINARY_IS_PRESERVED);
            values.putLong(0, 1);
            return longOut(driver, what, out -> driver.modules().cuLibraryLoadData(
                out, image.address(), 0, 0, 0, options.address(), values.address(), 1));
        }
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
}
