package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.RemoteDriver;
import dev.bitfusion.transport.protocol.TensorMapArgumentsEncoder;
import dev.bitfusion.transport.protocol.TensorMapKind;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
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
import java.util.Objects;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.systemtests.CudaExamples.binary;
import static dev.bitfusion.systemtests.Drivers.*;
import static dev.bitfusion.transport.CuResult.*;
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
        final String[] name = new String[1];
        ok(driver.cuDeviceGetName(name, 0), "cuDeviceGetName", driver);
        assertEquals("Bitfusion Emulated GPU", name[0]);
        final long[] total = new long[1];
        ok(driver.cuDeviceTotalMem(total, 0), "cuDeviceTotalMem", driver);
        assertEquals(TENANT_SLICE_MB << 20, total[0]);
        final int[] major = new int[1];
        ok(driver.cuDeviceGetAttribute(major, 75, 0), "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR)", driver);
        assertEquals(8, major[0]);
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
        ok(driver.cuMemcpyHtoD(source, data, 0, bytes), "cuMemcpyHtoD", driver);
        ok(driver.cuMemcpyDtoD(copy, source, bytes), "cuMemcpyDtoD", driver);
        final byte[] back = new byte[bytes];
        ok(driver.cuMemcpyDtoH(back, 0, copy, bytes), "cuMemcpyDtoH", driver);
        assertArrayEquals(data, back);

        final byte[] middle = new byte[1000];
        ok(driver.cuMemcpyDtoH(middle, 0, source + 5_000_001, middle.length), "cuMemcpyDtoH at an offset", driver);
        assertArrayEquals(Arrays.copyOfRange(data, 5_000_001, 5_001_001), middle);
    }

    @Test
    void shouldSetMemoryIn1d2dAndEveryElementSize()
    {
        final RemoteDriver driver = open();
        final long buffer = alloc(driver, 4096);
        ok(driver.cuMemsetD8(buffer, 0x11, 4096), "cuMemsetD8", driver);
        ok(driver.cuMemsetD16(buffer + 2, 0xA1B2, 3), "cuMemsetD16", driver);
        ok(driver.cuMemsetD32(buffer + 16, 0xDEADBEEF, 2), "cuMemsetD32", driver);
        ok(driver.cuMemsetD2D(buffer + 1024, 256, 0x7E, 1, 10, 4, 0), "cuMemsetD2D8", driver);
        final byte[] back = new byte[4096];
        ok(driver.cuMemcpyDtoH(back, 0, buffer, back.length), "cuMemcpyDtoH", driver);
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
        final long[] value = new long[1];
        ok(driver.cuCtxSetLimit(2, 16L << 20), "cuCtxSetLimit(MALLOC_HEAP_SIZE)", driver);
        ok(driver.cuCtxGetLimit(value, 2), "cuCtxGetLimit(MALLOC_HEAP_SIZE)", driver);
        assertEquals(16L << 20, value[0]);
        expect(CUDA_ERROR_INVALID_VALUE, driver.cuCtxGetLimit(value, 99), "an unknown limit, refused by the driver");
    }

    @Test
    void shouldOrderWorkOnStreamsAndTimeItWithEvents()
    {
        final RemoteDriver driver = open();
        final long[] stream = new long[1];
        ok(driver.cuStreamCreate(stream, 1), "cuStreamCreate", driver);
        final long[] start = new long[1];
        final long[] end = new long[1];
        ok(driver.cuEventCreate(start, 0), "cuEventCreate", driver);
        ok(driver.cuEventCreate(end, 0), "cuEventCreate", driver);
        final int bytes = 1 << 20;
        final byte[] data = pattern(bytes, 9);
        final long buffer = alloc(driver, bytes);
        ok(driver.cuEventRecord(start[0], stream[0]), "cuEventRecord", driver);
        ok(driver.cuMemcpyHtoDAsync(buffer, data, 0, bytes, stream[0]), "cuMemcpyHtoDAsync", driver);
        ok(driver.cuMemsetD8Async(buffer, 0x5A, 16, stream[0]), "cuMemsetD8Async", driver);
        ok(driver.cuEventRecord(end[0], stream[0]), "cuEventRecord", driver);
        ok(driver.cuStreamWaitEvent(0, end[0], 0), "cuStreamWaitEvent", driver);
        ok(driver.cuEventSynchronize(end[0]), "cuEventSynchronize", driver);
        ok(driver.cuEventQuery(end[0]), "cuEventQuery", driver);
        final float[] elapsed = new float[1];
        ok(driver.cuEventElapsedTime(elapsed, start[0], end[0]), "cuEventElapsedTime", driver);
        assertTrue(elapsed[0] >= 0, "elapsed " + elapsed[0]);
        final byte[] back = new byte[bytes];
        ok(driver.cuMemcpyDtoHAsync(back, 0, buffer, bytes, stream[0]), "cuMemcpyDtoHAsync", driver);
        ok(driver.cuStreamSynchronize(stream[0]), "cuStreamSynchronize", driver);
        assertEquals(0x5A, back[15]);
        assertArrayEquals(Arrays.copyOfRange(data, 16, bytes), Arrays.copyOfRange(back, 16, bytes));
        ok(driver.cuEventDestroy(start[0]), "cuEventDestroy", driver);
        ok(driver.cuEventDestroy(end[0]), "cuEventDestroy", driver);
        ok(driver.cuStreamDestroy(stream[0]), "cuStreamDestroy", driver);
    }

    @ParameterizedTest
    @ValueSource(strings = { "vector_add.ptx", "vector_add.fatbin" })
    void shouldLaunchAKernelWithParametersPackedByTheLayoutFromTheImage(final String fixture) throws Exception
    {
        final RemoteDriver driver = open();
        final long[] module = new long[1];
        ok(driver.cuModuleLoadData(module, Files.readAllBytes(KERNELS.resolve(fixture))), "cuModuleLoadData", driver);
        final long[] function = new long[1];
        ok(driver.cuModuleGetFunction(function, module[0], "vectorAdd"), "cuModuleGetFunction", driver);
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
        ok(driver.cuMemcpyHtoD(da, a.array(), 0, 4L * n), "cuMemcpyHtoD", driver);
        ok(driver.cuMemcpyHtoD(db, b.array(), 0, 4L * n), "cuMemcpyHtoD", driver);
        ok(driver.cuLaunchKernel(function[0], n / 256, 1, 1, 256, 1, 1, 0, 0,
            new byte[][]{ i64(da), i64(db), i64(dc), i32(n) }), "cuLaunchKernel", driver);
        final byte[] result = new byte[4 * n];
        ok(driver.cuMemcpyDtoH(result, 0, dc, 4L * n), "cuMemcpyDtoH", driver);
        final ByteBuffer sums = ByteBuffer.wrap(result).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++)
        {
            assertEquals(a.getFloat(4 * i) + b.getFloat(4 * i), sums.getFloat(4 * i), "element " + i);
        }
        ok(driver.cuModuleUnload(module[0]), "cuModuleUnload", driver);
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
        final long[] module = new long[1];
        ok(driver.cuModuleLoadData(module, Files.readAllBytes(KERNELS.resolve("vector_add.fatbin"))), "cuModuleLoadData", driver);
        final long[] function = new long[1];
        ok(driver.cuModuleGetFunction(function, module[0], "vectorAdd"), "cuModuleGetFunction", driver);
        final int n = 1024;
        final ByteBuffer ones = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++)
        {
            ones.putFloat(4 * i, i);
        }
        final long da = alloc(driver, 4L * n);
        final long dc = alloc(driver, 4L * n);
        ok(driver.cuMemcpyHtoD(da, ones.array(), 0, 4L * n), "cuMemcpyHtoD", driver);
        ok(driver.cuLaunchKernelEx(function[0], n / 256, 1, 1, 256, 1, 1, 0, 0, 1, 1, 1,
            new byte[][]{ i64(da), i64(da), i64(dc), i32(n) }), "a launch with clusters of one block", driver);
        final byte[] result = new byte[4 * n];
        ok(driver.cuMemcpyDtoH(result, 0, dc, 4L * n), "cuMemcpyDtoH", driver);
        final ByteBuffer sums = ByteBuffer.wrap(result).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++)
        {
            assertEquals(2.0f * i, sums.getFloat(4 * i), "element " + i);
        }

        ok(driver.cuLaunchKernelEx(function[0], n / 256, 1, 1, 256, 1, 1, 0, 0, 2, 1, 1,
            new byte[][]{ i64(da), i64(da), i64(dc), i32(n) }), "a cluster launch is queued", driver);
        expect(CUDA_ERROR_NOT_SUPPORTED, driver.cuCtxSynchronize(), "clusters of two on a GPU without clusters");
        final int[] size = new int[1];
        expect(CUDA_ERROR_NOT_SUPPORTED, driver.cuOccupancyClusters(size, RemoteDriver.MAX_POTENTIAL_CLUSTER_SIZE,
            function[0], new int[]{ 4, 1, 1 }, new int[]{ 256, 1, 1 }, 0, new int[]{ 0, 0, 0 }),
            "cluster occupancy, answered by server B's GPU without clusters");
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
        final long[] map = new long[1];
        final UnsafeBuffer tensorMap =
            new UnsafeBuffer(ByteBuffer.allocateDirect(TensorMapArgumentsEncoder.tensorMapLength()));

        expect(CUDA_ERROR_NOT_SUPPORTED, driver.cuTensorMapEncode(tiled(buffer, 64, 100, 256), tensorMap.addressOffset()),
            "a map inside the allocation, refused by server B's GPU without TMA");
        expect(CUDA_ERROR_INVALID_VALUE, driver.cuTensorMapEncode(tiled(buffer, 64, 101, 256), tensorMap.addressOffset()),
            "a map one row past the allocation");
        assertTrue(driver.lastError().contains("reaches past"), driver.lastError());
        final RemoteDriver neighbour = open();
        final long other = alloc(neighbour, 1 << 20);
        expect(CUDA_ERROR_INVALID_VALUE, driver.cuTensorMapEncode(tiled(other, 64, 4, 256), tensorMap.addressOffset()),
            "a map over a neighbour's memory");
        final TensorMapArgumentsEncoder replace = new TensorMapArgumentsEncoder()
            .wrap(new UnsafeBuffer(new byte[TensorMapArgumentsEncoder.ENCODED_LENGTH]), 0)
            .kind(TensorMapKind.REPLACE_ADDRESS)
            .globalAddress(buffer);
        expect(CUDA_ERROR_INVALID_VALUE, driver.cuTensorMapEncode(replace.buffer(), tensorMap.addressOffset()),
            "a new address in a map the server did not build");
        ok(driver.cuCtxSynchronize(), "the session still works", driver);
    }

    /** A 2-D float32 map over rows of {@code columns} floats, {@code rowBytes} apart. */
    private static DirectBuffer tiled(
        final long address, final long columns, final long rows, final long rowBytes)
    {
        return new TensorMapArgumentsEncoder()
            .wrap(new UnsafeBuffer(new byte[TensorMapArgumentsEncoder.ENCODED_LENGTH]), 0)
            .kind(TensorMapKind.TILED)
            .dataType(7)
            .rank(2)
            .globalAddress(address)
            .globalDim(0, columns)
            .globalDim(1, rows)
            .globalStrides(0, rowBytes)
            .boxDim(0, 32)
            .boxDim(1, 8)
            .elementStrides(0, 1)
            .elementStrides(1, 1)
            .buffer();
    }

    @Test
    void shouldEnforceTheTenantsSliceAndItsOwnPointers()
    {
        final RemoteDriver tenant = open();
        final RemoteDriver neighbour = open();
        final long held = alloc(tenant, (TENANT_SLICE_MB - 16) << 20);
        final long[] more = new long[1];
        expect(CUDA_ERROR_OUT_OF_MEMORY, tenant.cuMemAlloc(more, 32L << 20), "an allocation past the slice");
        final long other = alloc(neighbour, 1 << 20);
        expect(CUDA_ERROR_INVALID_VALUE, tenant.cuMemcpyDtoH(new byte[16], 0, other, 16), "reading a neighbour's memory");
        expect(CUDA_ERROR_INVALID_VALUE, tenant.cuMemcpyDtoH(new byte[16], 0, held + ((TENANT_SLICE_MB - 16) << 20) - 8, 16),
            "reading past the end of an allocation");
        ok(tenant.cuMemFree(held), "cuMemFree", tenant);
        ok(tenant.cuMemAlloc(more, 32L << 20), "an allocation that fits once memory is freed", tenant);
    }

    /**
     * The examples suite, the same programs and verdicts as {@link InterposerSystemTest} (and a few that it
     * checks on their own), each run under {@code bitfusion run} against server A so that its calls go
     * through the cuda backend.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("examplesSuite")
    void shouldRunTheExamplesSuiteThroughTheChain(final String example, final String passed) throws Exception
    {
        final String output = runThroughServerA(binary(example), "kernel_loop".equals(example) ? "0" : null);

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
        return Stream.concat(CudaExamples.selfChecking(), Stream.of(
            Arguments.of("device_info", "device_info: PASSED"),
            Arguments.of("shared_runtime", "shared_runtime: runtime 13000 on driver 13000, sum 4999950000 PASSED"),
            Arguments.of("unsupported_memory", "unsupported_memory: managed memory refused PASSED"),
            Arguments.of("fork_child", "fork_child: child refused yes, parent still works yes: PASSED"),
            Arguments.of("kernel_loop", "kernel_loop: 1 rounds PASSED")));
    }

    @Test
    void shouldRunTheDriverApiExampleLoadingPtxAndFatbinThroughTheChain() throws Exception
    {
        final String output = runThroughServerA(binary("driver_api"), binary("driver_kernels.ptx"),
            binary("driver_kernels.fatbin"));

        assertTrue(output.contains("driver_api: PTX and fatbin modules, streams, memory PASSED"), output);
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
        Arrays.stream(programAndArgs).filter(Objects::nonNull).forEach(command::add);
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

    private static byte[] i64(final long value)
    {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    }

    private static byte[] i32(final int value)
    {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array();
    }
}
