package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.transport.protocol.TensorMapArgumentsEncoder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.systemtests.CudaExamples.binary;
import static dev.bitfusion.systemtests.DriverCalls.*;
import static dev.bitfusion.systemtests.Drivers.*;
import static dev.bitfusion.cuda.CuResult.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The cuda backend without a GPU: server A runs {@code --backend cuda} as a program under
 * {@code bitfusion run}, so JCuda's libJCudaDriver loads our libcuda.so.1, which joins server A's JVM and
 * forwards every driver call to server B on the emulated GPU. A client then drives server A, so each call
 * crosses CudaSession and JCuda's real driver API surface end to end:
 * <pre>
 *   test RemoteDriver -> server A (CudaBackend, JCuda) -> our libcuda.so.1 -> RemoteDriver -> server B (emulated)
 * </pre>
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class CudaBackendChainSystemTest
{
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    private static final Path BRIDGE = ROOT.resolve("native-bridge/target/native/libcuda.so.1");
    private static final Path LAUNCHER_LIBS = ROOT.resolve("cli/target/lib/bitfusion-cli.jar");
    private static final Path KERNELS = ROOT.resolve("emulator/src/test/resources/kernels");
    private static final long SERVER_B_MEMORY_MB = 768;
    private static final long SERVER_A_SLICE_MB = 256;
    private static final long TENANT_SLICE_MB = 64;

    private static ServerProcess serverB;
    private static ServerProcess serverA;
    private final List<RemoteDriver> drivers = new ArrayList<>();

    @BeforeAll
    static void startServers() throws Exception
    {
        if (!Files.isRegularFile(BRIDGE) || !Files.isRegularFile(LAUNCHER_LIBS))
        {
            System.err.println("CudaBackendChainSystemTest: SKIPPED, the native bridge (" + BRIDGE + ") or the " +
                "distribution (" + LAUNCHER_LIBS + ") is not built: run ./mvnw install");
        }
        assumeTrue(Files.isRegularFile(BRIDGE), "native bridge not built: " + BRIDGE);
        assumeTrue(Files.isRegularFile(LAUNCHER_LIBS), "distribution not built: " + LAUNCHER_LIBS);

        serverB = ServerProcess.start(SERVER_B_MEMORY_MB);
        final int port = ServerProcess.freeUdpPort();
        // bitfusion run prepares server A's environment exactly as for any CUDA program: our library first
        // in LD_LIBRARY_PATH, the slice of server B, the class path the bridge needs.
        serverA = ServerProcess.start(List.of(ROOT.resolve("bin/bitfusion").toString(), "run",
            "-m", Long.toString(SERVER_A_SLICE_MB), "--server_list", serverB.serverList(), "--",
            ROOT.resolve("bin/bitfusion").toString(), "server", "--backend", "cuda", "--listen", "127.0.0.1:" + port),
            port);
    }

    @AfterAll
    static void stopServers() throws Exception
    {
        if (serverA != null)
        {
            serverA.close();
        }
        if (serverB != null)
        {
            serverB.close();
        }
    }

    @AfterEach
    void closeDrivers()
    {
        drivers.forEach(RemoteDriver::close);
        drivers.clear();
    }

    @Test
    void shouldServeServerBsGpuAsACudaBackendAndReportTheSlice()
    {
        assertTrue(serverA.output().stream().anyMatch(line -> line.contains("backend cuda: 1 x Bitfusion Emulated GPU, " +
            SERVER_A_SLICE_MB + " MiB")), serverA.output().toString());
        final RemoteDriver driver = open();
        assertEquals("Bitfusion Emulated GPU", deviceName(driver, 0));
        assertEquals(TENANT_SLICE_MB << 20, longOut(driver, "cuDeviceTotalMem",
            out -> driver.devices().cuDeviceTotalMem(out, 0)));
        assertEquals(8, intOut(driver, "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR)",
            out -> driver.devices().cuDeviceGetAttribute(out, 75, 0)));
    }

    @Test
    void shouldCopyThroughThePinnedStagingRingWithContentIntact()
    {
        final RemoteDriver driver = open();
        // Larger than the four 4 MiB staging slots together, and not a multiple of anything.
        final int bytes = 17 * 1024 * 1024 + 123;
        final byte[] data = pattern(bytes, 6);
        final long source = alloc(driver, bytes);
        final long copy = alloc(driver, bytes);
        ok(copyToDevice(driver, source, data), "cuMemcpyHtoD", driver);
        ok(driver.memory().cuMemcpyDtoD(copy, source, bytes), "cuMemcpyDtoD", driver);
        final byte[] back = new byte[bytes];
        ok(copyFromDevice(driver, back, copy), "cuMemcpyDtoH", driver);
        assertArrayEquals(data, back);

        final byte[] middle = new byte[1000];
        ok(copyFromDevice(driver, middle, source + 5_000_001), "cuMemcpyDtoH at an offset", driver);
        assertArrayEquals(Arrays.copyOfRange(data, 5_000_001, 5_001_001), middle);
    }

    @Test
    void shouldSetMemoryIn1d2dAndEveryElementSize()
    {
        final RemoteDriver driver = open();
        final long buffer = alloc(driver, 4096);
        ok(driver.memory().cuMemsetD8(buffer, 0x11, 4096), "cuMemsetD8", driver);
        ok(driver.memory().cuMemsetD16(buffer + 2, 0xA1B2, 3), "cuMemsetD16", driver);
        ok(driver.memory().cuMemsetD32(buffer + 16, 0xDEADBEEF, 2), "cuMemsetD32", driver);
        ok(driver.memory().cuMemsetD2D8(buffer + 1024, 256, 0x7E, 10, 4), "cuMemsetD2D8", driver);
        final byte[] back = new byte[4096];
        ok(copyFromDevice(driver, back, buffer), "cuMemcpyDtoH", driver);
        final ByteBuffer view = ByteBuffer.wrap(back).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x11, back[0]);
        assertEquals((short)0xA1B2, view.getShort(2));
        assertEquals((short)0xA1B2, view.getShort(6));
        assertEquals(0x11, back[8]);
        assertEquals(0xDEADBEEF, view.getInt(16));
        assertEquals(0xDEADBEEF, view.getInt(20));
        assertEquals(0x11, back[24]);
        for (int row = 0; row < 4; row++)
        {
            assertEquals(0x7E, back[1024 + row * 256], "row " + row);
            assertEquals(0x7E, back[1024 + row * 256 + 9], "row " + row);
            assertEquals(0x11, back[1024 + row * 256 + 10], "past row " + row);
        }
        assertEquals(0x11, back[1024 + 4 * 256]);
    }

    @Test
    void shouldPassContextLimitsToTheDriver()
    {
        final RemoteDriver driver = open();
        ok(driver.contexts().cuCtxSetLimit(2, 16L << 20), "cuCtxSetLimit(MALLOC_HEAP_SIZE)", driver);
        assertEquals(16L << 20, longOut(driver, "cuCtxGetLimit(MALLOC_HEAP_SIZE)",
            out -> driver.contexts().cuCtxGetLimit(out, 2)));
        expect(CUDA_ERROR_INVALID_VALUE, status(out -> driver.contexts().cuCtxGetLimit(out, 99)),
            "an unknown limit, refused by the driver");
    }

    @Test
    void shouldOrderWorkOnStreamsAndTimeItWithEvents()
    {
        final RemoteDriver driver = open();
        final long stream = longOut(driver, "cuStreamCreate", out -> driver.streams().cuStreamCreate(out, 1));
        final long start = longOut(driver, "cuEventCreate", out -> driver.events().cuEventCreate(out, 0));
        final long end = longOut(driver, "cuEventCreate", out -> driver.events().cuEventCreate(out, 0));
        final int bytes = 1 << 20;
        final byte[] data = pattern(bytes, 9);
        final long buffer = alloc(driver, bytes);
        ok(driver.events().cuEventRecord(start, stream), "cuEventRecord", driver);
        ok(copyToDeviceAsync(driver, buffer, data, stream), "cuMemcpyHtoDAsync", driver);
        ok(driver.memory().cuMemsetD8Async(buffer, 0x5A, 16, stream), "cuMemsetD8Async", driver);
        ok(driver.events().cuEventRecord(end, stream), "cuEventRecord", driver);
        ok(driver.streams().cuStreamWaitEvent(0, end, 0), "cuStreamWaitEvent", driver);
        ok(driver.events().cuEventSynchronize(end), "cuEventSynchronize", driver);
        ok(driver.events().cuEventQuery(end), "cuEventQuery", driver);
        final float elapsed = floatOut(driver, "cuEventElapsedTime",
            out -> driver.events().cuEventElapsedTime(out, start, end));
        assertTrue(elapsed >= 0, "elapsed " + elapsed);
        final byte[] back = new byte[bytes];
        ok(copyFromDeviceAsync(driver, back, buffer, stream), "cuMemcpyDtoHAsync", driver);
        ok(driver.streams().cuStreamSynchronize(stream), "cuStreamSynchronize", driver);
        assertEquals(0x5A, back[15]);
        assertArrayEquals(Arrays.copyOfRange(data, 16, bytes), Arrays.copyOfRange(back, 16, bytes));
        ok(driver.events().cuEventDestroy(start), "cuEventDestroy", driver);
        ok(driver.events().cuEventDestroy(end), "cuEventDestroy", driver);
        ok(driver.streams().cuStreamDestroy(stream), "cuStreamDestroy", driver);
    }

    @ParameterizedTest
    @ValueSource(strings = { "vector_add.ptx", "vector_add.fatbin" })
    void shouldLaunchAKernelWithParametersPackedByTheLayoutFromTheImage(final String fixture) throws Exception
    {
        final RemoteDriver driver = open();
        final long module = loadModule(driver, Files.readAllBytes(KERNELS.resolve(fixture)));
        final long function = function(driver, module, "vectorAdd");
        final int n = 1 << 16;
        final ByteBuffer a = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++)
        {
            a.putFloat(4 * i, i * 0.25f);
            b.putFloat(4 * i, 100 - i);
        }
        final long da = alloc(driver, 4L * n);
        final long db = alloc(driver, 4L * n);
        final long dc = alloc(driver, 4L * n);
        ok(copyToDevice(driver, da, a.array()), "cuMemcpyHtoD", driver);
        ok(copyToDevice(driver, db, b.array()), "cuMemcpyHtoD", driver);
        ok(launch(driver, function, n / 256, 256, 0, 0, da, db, dc, n), "cuLaunchKernel", driver);
        final byte[] result = new byte[4 * n];
        ok(copyFromDevice(driver, result, dc), "cuMemcpyDtoH", driver);
        final ByteBuffer sums = ByteBuffer.wrap(result).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++)
        {
            assertEquals(a.getFloat(4 * i) + b.getFloat(4 * i), sums.getFloat(4 * i), "element " + i);
        }
        ok(driver.modules().cuModuleUnload(module), "cuModuleUnload", driver);
    }

    /**
     * A cluster launch leaves JCuda for the driver's cuLaunchKernelEx (ClusterLaunch), here our libcuda.so.1,
     * which carries the shape on to server B: one block per cluster runs there, two are refused by its
     * compute capability 8.0 GPU, and the refusal comes back to the client.
     */
    @Test
    void shouldLaunchWithAClusterShapeThroughTheDriversLaunchKernelEx() throws Exception
    {
        final RemoteDriver driver = open();
        final long function = function(driver,
            loadModule(driver, Files.readAllBytes(KERNELS.resolve("vector_add.fatbin"))), "vectorAdd");
        final int n = 1024;
        final ByteBuffer ones = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++)
        {
            ones.putFloat(4 * i, i);
        }
        final long da = alloc(driver, 4L * n);
        final long dc = alloc(driver, 4L * n);
        ok(copyToDevice(driver, da, ones.array()), "cuMemcpyHtoD", driver);
        try (NativeBuffer parameters = kernelParams(da, da, dc, n);
            NativeBuffer clustersOfOne = launchConfig(n / 256, 256, 0, 0, 1);
            NativeBuffer clustersOfTwo = launchConfig(n / 256, 256, 0, 0, 2);
            NativeBuffer noClusters = launchConfig(4, 256, 0, 0, 0))
        {
            ok(driver.launches().cuLaunchKernelEx(clustersOfOne.address(), function, parameters.address(), 0),
                "a launch with clusters of one block", driver);
            final byte[] result = new byte[4 * n];
            ok(copyFromDevice(driver, result, dc), "cuMemcpyDtoH", driver);
            final ByteBuffer sums = ByteBuffer.wrap(result).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++)
            {
                assertEquals(2.0f * i, sums.getFloat(4 * i), "element " + i);
            }

            ok(driver.launches().cuLaunchKernelEx(clustersOfTwo.address(), function, parameters.address(), 0),
                "a cluster launch is queued", driver);
            expect(CUDA_ERROR_NOT_SUPPORTED, driver.contexts().cuCtxSynchronize(),
                "clusters of two on a GPU without clusters");
            expect(CUDA_ERROR_NOT_SUPPORTED,
                status(out -> driver.functions().cuOccupancyMaxPotentialClusterSize(out, function, noClusters.address())),
                "cluster occupancy, answered by server B's GPU without clusters");
        }
    }

    /**
     * Tensor maps are built by the GPU's driver, through DriverExtras; server A first checks the map stays
     * inside one of the tenant's allocations. Server B's GPU (8.0) has no TMA, so a valid map comes back
     * refused by it: the whole path, client to server B's driver, is crossed.
     */
    @Test
    void shouldBuildTensorMapsOnlyOverTheTenantsOwnMemory()
    {
        final RemoteDriver driver = open();
        final long buffer = alloc(driver, 64 * 100 * 4);
        try (NativeBuffer tensorMap = NativeBuffer.allocate(TensorMapArgumentsEncoder.tensorMapLength()))
        {
            expect(CUDA_ERROR_NOT_SUPPORTED, encodeTiled(driver, tensorMap, buffer, 64, 100, 256),
                "a map inside the allocation, refused by server B's GPU without TMA");
            expect(CUDA_ERROR_INVALID_VALUE, encodeTiled(driver, tensorMap, buffer, 64, 101, 256),
                "a map one row past the allocation");
            assertTrue(driver.lastError().contains("reaches past"), driver.lastError());
            final RemoteDriver neighbour = open();
            final long other = alloc(neighbour, 1 << 20);
            expect(CUDA_ERROR_INVALID_VALUE, encodeTiled(driver, tensorMap, other, 64, 4, 256),
                "a map over a neighbour's memory");
            expect(CUDA_ERROR_INVALID_VALUE, driver.tensorMaps().cuTensorMapReplaceAddress(tensorMap.address(), buffer),
                "a new address in a map the server did not build");
        }
        ok(driver.contexts().cuCtxSynchronize(), "the session still works", driver);
    }

    /** cuTensorMapEncodeTiled of a 2-D float32 map over rows of {@code columns} floats, {@code rowBytes} apart. */
    private static int encodeTiled(
        final RemoteDriver driver, final NativeBuffer tensorMap, final long address, final long columns, final long rows,
        final long rowBytes)
    {
        try (NativeBuffer arrays = NativeBuffer.allocate(64))
        {
            final int globalDim = 0;
            final int globalStrides = 16;
            final int boxDim = 24;
            final int elementStrides = 32;
            arrays.putLong(globalDim, columns);
            arrays.putLong(globalDim + 8, rows);
            arrays.putLong(globalStrides, rowBytes);
            arrays.putInt(boxDim, 32);
            arrays.putInt(boxDim + 4, 8);
            arrays.putInt(elementStrides, 1);
            arrays.putInt(elementStrides + 4, 1);
            return driver.tensorMaps().cuTensorMapEncodeTiled(tensorMap.address(), 7, 2, address,
                arrays.address(globalDim), arrays.address(globalStrides), arrays.address(boxDim),
                arrays.address(elementStrides), 0, 0, 0, 0);
        }
    }

    @Test
    void shouldEnforceTheTenantsSliceAndItsOwnPointers()
    {
        final RemoteDriver tenant = open();
        final RemoteDriver neighbour = open();
        final long held = alloc(tenant, (TENANT_SLICE_MB - 16) << 20);
        expect(CUDA_ERROR_OUT_OF_MEMORY, status(out -> tenant.memory().cuMemAlloc(out, 32L << 20)),
            "an allocation past the slice");
        final long other = alloc(neighbour, 1 << 20);
        expect(CUDA_ERROR_INVALID_VALUE, copyFromDevice(tenant, new byte[16], other), "reading a neighbour's memory");
        expect(CUDA_ERROR_INVALID_VALUE, copyFromDevice(tenant, new byte[16], held + ((TENANT_SLICE_MB - 16) << 20) - 8),
            "reading past the end of an allocation");
        ok(tenant.memory().cuMemFree(held), "cuMemFree", tenant);
        ok(status(out -> tenant.memory().cuMemAlloc(out, 32L << 20)), "an allocation that fits once memory is freed",
            tenant);
    }

    /**
     * The examples suite of examples/cuda/manifest.txt (as {@link BridgeSystemTest} and gpu-check.sh run
     * it), each program run under {@code bitfusion run} against server A so that its calls go through the
     * cuda backend.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("examplesSuite")
    void shouldRunTheExamplesSuiteThroughTheChain(final String example, final List<String> arguments,
        final String passed) throws Exception
    {
        final String output = runThroughServerA(
            Stream.concat(Stream.of(binary(example)), arguments.stream()).toArray(String[]::new));

        assertTrue(output.contains(passed), output);
        assertFalse(output.contains("FAILED"), output);
    }

    /**
     * Server A's "driver" prints device printf to its standard output at the synchronisation, as NVIDIA's
     * does; DevicePrintf must bring it back to the program, in order.
     */
    @Test
    void shouldBringDevicePrintfBackToTheProgram() throws Exception
    {
        final String output = runThroughServerA(binary("device_printf"));

        for (int block = 0; block < 2; block++)
        {
            for (int thread = 0; thread < 3; thread++)
            {
                final String line = "device printf: block " + block + " thread " + thread + " value " + (40 + block * 3 + thread);
                assertTrue(output.contains(line), "missing '" + line + "': " + output);
            }
        }
        assertTrue(output.indexOf("host: launching") < output.indexOf("device printf:") &&
            output.lastIndexOf("device printf:") < output.indexOf("device_printf: PASSED"), output);
        assertFalse(serverA.output().stream().anyMatch(line -> line.contains("device printf:")),
            "device printf must not stay on the server: " + serverA.output());
    }

    static Stream<Arguments> examplesSuite()
    {
        return CudaExamples.suiteExcept("device_printf", "driver_api");
    }

    @Test
    void shouldRunTheDriverApiExampleLoadingPtxAndFatbinThroughTheChain() throws Exception
    {
        final String output = runThroughServerA(binary("driver_api"), binary("driver_kernels.ptx"),
            binary("driver_kernels.fatbin"));

        assertTrue(output.contains(CudaExamples.verdict("driver_api")), output);
    }

    /**
     * Runs an example (built first, when needed) on a 128 MiB slice of server A over UDP; returns its output
     * once it exited 0.
     */
    private static String runThroughServerA(final String... programAndArgs) throws Exception
    {
        CudaExamples.buildAll();
        final List<String> command = new ArrayList<>(List.of(ROOT.resolve("bin/bitfusion").toString(), "run",
            "-m", "128", "--server_list", serverA.serverList(), "--"));
        command.addAll(Arrays.asList(programAndArgs));
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("BITFUSION_JVM_OPTS", "-Dbitfusion.client.transport=udp");
        builder.environment().remove("BITFUSION_SERVERS");
        final Process process = builder.start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "bitfusion run did not finish: " + output);
        assertEquals(0, process.exitValue(), output);
        return output;
    }

    /**
     * A GPU whose driver fails (here server A's, whose server B is gone) refuses new sessions at once with the
     * driver's error, rather than leaving clients to time out.
     */
    @Test
    void shouldRefuseSessionsWithTheDriversErrorOnceItsGpuIsLost() throws Exception
    {
        try (ServerProcess lostB = ServerProcess.start(SERVER_B_MEMORY_MB))
        {
            final int port = ServerProcess.freeUdpPort();
            try (ServerProcess orphanA = ServerProcess.start(List.of(ROOT.resolve("bin/bitfusion").toString(), "run",
                "-m", Long.toString(SERVER_A_SLICE_MB), "--server_list", lostB.serverList(), "--",
                ROOT.resolve("bin/bitfusion").toString(), "server", "--backend", "cuda", "--listen", "127.0.0.1:" + port),
                port))
            {
                lostB.kill();
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (orphanA.output().stream().noneMatch(line -> line.contains("lost the GPU server")))
                {
                    assertTrue(System.nanoTime() < deadline, "server A did not notice: " + orphanA.output());
                    Thread.sleep(100);
                }
                final RemoteDriver driver = new RemoteDriver(new ClientSettings().server(orphanA.endpoint())
                    .transport("udp").memoryMb(TENANT_SLICE_MB), System.out);
                drivers.add(driver);
                expect(CUDA_ERROR_NO_DEVICE, driver.cuInit(0), "cuInit on a server whose GPU is lost");
                assertTrue(driver.lastError().contains("refused the session") &&
                    driver.lastError().contains("cuCtxCreate failed: CUDA_ERROR_DEVICE_UNAVAILABLE"), driver.lastError());
            }
        }
    }

    private RemoteDriver open()
    {
        final RemoteDriver driver = Drivers.open(serverA.endpoint(), "udp", new ClientSettings().memoryMb(TENANT_SLICE_MB));
        drivers.add(driver);
        return driver;
    }
}
