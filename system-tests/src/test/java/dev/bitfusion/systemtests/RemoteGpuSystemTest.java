package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.cuda.CuResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.systemtests.DriverCalls.*;
import static dev.bitfusion.systemtests.Drivers.*;
import static dev.bitfusion.cuda.CuResult.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The driver API against a real server process, over UDP loopback and over IPC.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RemoteGpuSystemTest
{
    private static final long SERVER_MEMORY_MB = 2048;
    private static final int CU_EVENT_DISABLE_TIMING = 0x2;
    private static ServerProcess server;
    private final List<RemoteDriver> drivers = new ArrayList<>();

    @BeforeAll
    static void startServer() throws Exception
    {
        server = ServerProcess.start(SERVER_MEMORY_MB);
    }

    @AfterAll
    static void stopServer() throws Exception
    {
        if (server != null)
        {
            server.close();
        }
    }

    @AfterEach
    void closeSessionsAndCheckTheServerFreedThem() throws Exception
    {
        drivers.forEach(RemoteDriver::close);
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        GpuPoolInfo pool;
        do
        {
            pool = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));
            if (pool.openSessions() == 0)
            {
                break;
            }
            Thread.sleep(50);
        }
        while (System.nanoTime() < deadlineNs);
        assertEquals(0, pool.openSessions(), "sessions left open on the server");
        assertEquals(0, pool.gpus().get(0).allocatedBytes(), "memory left allocated on the server");
        assertEquals(SERVER_MEMORY_MB << 20, pool.gpus().get(0).unreservedBytes(), "slices left reserved");
    }

    private RemoteDriver open(final String transport, final double fraction)
    {
        final RemoteDriver driver = Drivers.open(server.endpoint(), transport, fraction);
        drivers.add(driver);
        return driver;
    }

    private RemoteDriver open(final String transport, final ClientSettings slice)
    {
        final RemoteDriver driver = Drivers.open(server.endpoint(), transport, slice);
        drivers.add(driver);
        return driver;
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldUseTheTransportAsked(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.1);
        assertEquals(transport.equals("ipc"), driver.session(0).isIpc());
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldRoundTripCopiesFromOneByteTo256MiBWithTheirContent(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.5);
        final int[] sizes = { 1, 7, 4096, 65_535, 65_536 + 13, (1 << 20) + 1, 16 << 20, 256 << 20 };
        for (final int size : sizes)
        {
            final byte[] source = pattern(size, size);
            final long device = alloc(driver, size);
            ok(copyToDevice(driver, device, source), "cuMemcpyHtoD " + size, driver);
            final byte[] back = new byte[size];
            ok(copyFromDevice(driver, back, device), "cuMemcpyDtoH " + size, driver);
            assertArrayEquals(source, back, "content after a round trip of " + size + " bytes");
            ok(driver.memory().cuMemFree(device), "cuMemFree", driver);
        }
        ok(driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize", driver);
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldCopyAsynchronouslyDeviceToDeviceAndAtOffsets(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.1);
        final int size = 3 << 20;
        final byte[] source = pattern(size, 3);
        final long a = alloc(driver, size);
        final long b = alloc(driver, size);
        final long stream = longOut(driver, "cuStreamCreate", out -> driver.streams().cuStreamCreate(out, 0));
        ok(copyToDeviceAsync(driver, a, source, stream), "cuMemcpyHtoDAsync", driver);
        ok(driver.memory().cuMemcpyDtoDAsync(b + 100, a, size - 100, stream), "cuMemcpyDtoDAsync", driver);
        ok(driver.streams().cuStreamSynchronize(stream), "cuStreamSynchronize", driver);
        final byte[] back = new byte[size - 100];
        ok(copyFromDeviceAsync(driver, back, b + 100, stream), "cuMemcpyDtoHAsync", driver);
        assertArrayEquals(Arrays.copyOf(source, size - 100), back);
        ok(driver.streams().cuStreamDestroy(stream), "cuStreamDestroy", driver);
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldMemsetWith8And16And32BitValuesAndIn2D(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.1);
        final int size = 1 << 16;
        final long device = alloc(driver, size);
        ok(driver.memory().cuMemsetD8(device, 0xAB, size), "cuMemsetD8", driver);
        ok(driver.memory().cuMemsetD16(device + 2, 0x1234, 10), "cuMemsetD16", driver);
        ok(driver.memory().cuMemsetD32(device + 64, 0xCAFEBABE, 4), "cuMemsetD32", driver);
        ok(driver.memory().cuMemsetD2D8(device + 1024, 256, 0x77, 16, 4), "cuMemsetD2D8", driver);
        final byte[] back = new byte[size];
        ok(copyFromDevice(driver, back, device), "cuMemcpyDtoH", driver);

        final byte[] expected = new byte[size];
        Arrays.fill(expected, (byte)0xAB);
        for (int i = 0; i < 10; i++)
        {
            expected[2 + 2 * i] = 0x34;
            expected[3 + 2 * i] = 0x12;
        }
        for (int i = 0; i < 4; i++)
        {
            expected[64 + 4 * i] = (byte)0xBE;
            expected[65 + 4 * i] = (byte)0xBA;
            expected[66 + 4 * i] = (byte)0xFE;
            expected[67 + 4 * i] = (byte)0xCA;
        }
        for (int row = 0; row < 4; row++)
        {
            Arrays.fill(expected, 1024 + row * 256, 1024 + row * 256 + 16, (byte)0x77);
        }
        assertArrayEquals(expected, back);
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldOrderWorkAcrossStreamsThroughEventsAndTimeIt(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.1);
        final int size = 8 << 20;
        final byte[] source = pattern(size, 11);
        final long a = alloc(driver, size);
        final long b = alloc(driver, size);
        final long producer = longOut(driver, "cuStreamCreate", out -> driver.streams().cuStreamCreate(out, 0));
        final long consumer = longOut(driver, "cuStreamCreate", out -> driver.streams().cuStreamCreate(out, 0));
        final long start = longOut(driver, "cuEventCreate", out -> driver.events().cuEventCreate(out, 0));
        final long copied = longOut(driver, "cuEventCreate", out -> driver.events().cuEventCreate(out, 0));
        final long untimed = longOut(driver, "cuEventCreate",
            out -> driver.events().cuEventCreate(out, CU_EVENT_DISABLE_TIMING));

        ok(driver.events().cuEventRecord(start, producer), "cuEventRecord", driver);
        ok(copyToDeviceAsync(driver, a, source, producer), "cuMemcpyHtoDAsync", driver);
        ok(driver.memory().cuMemcpyDtoDAsync(b, a, size, producer), "cuMemcpyDtoDAsync", driver);
        ok(driver.events().cuEventRecord(copied, producer), "cuEventRecord", driver);
        ok(driver.events().cuEventRecord(untimed, producer), "cuEventRecord", driver);
        ok(driver.streams().cuStreamWaitEvent(consumer, copied, 0), "cuStreamWaitEvent", driver);
        final byte[] back = new byte[size];
        ok(copyFromDeviceAsync(driver, back, b, consumer), "cuMemcpyDtoHAsync", driver);
        assertArrayEquals(source, back, "the consumer stream saw the producer's copy");

        ok(driver.events().cuEventSynchronize(copied), "cuEventSynchronize", driver);
        ok(driver.events().cuEventQuery(copied), "cuEventQuery", driver);
        ok(driver.streams().cuStreamQuery(producer), "cuStreamQuery", driver);
        final float milliseconds = floatOut(driver, "cuEventElapsedTime",
            out -> driver.events().cuEventElapsedTime(out, start, copied));
        assertTrue(milliseconds >= 0 && milliseconds < 60_000, "elapsed " + milliseconds + " ms");
        expect(CUDA_ERROR_INVALID_HANDLE, status(out -> driver.events().cuEventElapsedTime(out, start, untimed)),
            "cuEventElapsedTime with a DISABLE_TIMING event");

        ok(driver.events().cuEventDestroy(start), "cuEventDestroy", driver);
        ok(driver.streams().cuStreamDestroy(producer), "cuStreamDestroy", driver);
        ok(driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize", driver);
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldEnforceAFractionalSliceAndReportIt(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.25);
        final long slice = (SERVER_MEMORY_MB << 20) / 4;
        assertEquals(slice, longOut(driver, "cuDeviceTotalMem", out -> driver.devices().cuDeviceTotalMem(out, 0)));

        final long first = alloc(driver, slice - (1 << 20));
        try (NativeBuffer info = NativeBuffer.allocate(2 * Long.BYTES))
        {
            ok(driver.memory().cuMemGetInfo(info.address(), info.address(Long.BYTES)), "cuMemGetInfo", driver);
            assertEquals(slice, info.getLong(Long.BYTES), "total");
            assertEquals(1 << 20, info.getLong(0), "free");
        }

        expect(CUDA_ERROR_OUT_OF_MEMORY, status(out -> driver.memory().cuMemAlloc(out, 2 << 20)),
            "cuMemAlloc past the slice");
        assertTrue(driver.lastError().contains("exceeds the slice"), driver.lastError());
        ok(driver.memory().cuMemFree(first), "cuMemFree", driver);
        alloc(driver, slice);
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldEnforceASliceInMegabytes(final String transport)
    {
        final RemoteDriver driver = open(transport, new ClientSettings().memoryMb(64));
        assertEquals(64L << 20, longOut(driver, "cuDeviceTotalMem", out -> driver.devices().cuDeviceTotalMem(out, 0)));
        expect(CUDA_ERROR_OUT_OF_MEMORY, status(out -> driver.memory().cuMemAlloc(out, (64L << 20) + 1)),
            "cuMemAlloc of 64 MiB + 1");
        alloc(driver, 32L << 20);
        expect(CUDA_ERROR_OUT_OF_MEMORY, status(out -> driver.memory().cuMemAlloc(out, (32L << 20) + 1)),
            "cuMemAlloc of the rest + 1");
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldRefuseASecondTenantAskingForMoreThanIsLeft(final String transport)
    {
        open(transport, 0.75);
        final RemoteDriver second = new RemoteDriver(
            new ClientSettings().server(server.endpoint()).transport(transport).memoryMb(SERVER_MEMORY_MB / 2), System.out);
        drivers.add(second);
        expect(CUDA_ERROR_NO_DEVICE, second.cuInit(0), "cuInit of a slice that does not fit");
        assertTrue(second.lastError().contains("does not fit"), second.lastError());
        assertTrue(second.lastError().contains("SLICE_UNAVAILABLE"), second.lastError());
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldRefuseAnotherTenantsPointersAndLeaveItsMemoryAlone(final String transport)
    {
        final RemoteDriver owner = open(transport, 0.2);
        final RemoteDriver intruder = open(transport, 0.2);
        final byte[] secret = pattern(4096, 5);
        final long ownersMemory = alloc(owner, secret.length);
        ok(copyToDevice(owner, ownersMemory, secret), "cuMemcpyHtoD", owner);

        final byte[] stolen = new byte[secret.length];
        expect(CUDA_ERROR_INVALID_VALUE, copyFromDevice(intruder, stolen, ownersMemory),
            "cuMemcpyDtoH from another tenant's memory");
        ok(copyToDevice(intruder, ownersMemory, new byte[secret.length]), "queued HtoD", intruder);
        expect(CUDA_ERROR_INVALID_VALUE, intruder.contexts().cuCtxSynchronize(),
            "sync after writing to another tenant's memory");
        ok(intruder.memory().cuMemsetD8(ownersMemory, 0, secret.length), "queued memset", intruder);
        expect(CUDA_ERROR_INVALID_VALUE, intruder.contexts().cuCtxSynchronize(),
            "sync after a memset of another tenant's memory");
        expect(CUDA_ERROR_INVALID_VALUE, copyFromDevice(intruder, new byte[16], 0x1000),
            "cuMemcpyDtoH from a wild pointer");
        ok(intruder.contexts().cuCtxSynchronize(), "errors are reported once", intruder);

        final long intrudersMemory = alloc(intruder, 16);
        ok(copyToDevice(intruder, intrudersMemory, new byte[32]), "queued overflowing HtoD", intruder);
        expect(CUDA_ERROR_INVALID_VALUE, intruder.contexts().cuCtxSynchronize(),
            "sync after a copy past its own allocation");

        final byte[] back = new byte[secret.length];
        ok(copyFromDevice(owner, back, ownersMemory), "cuMemcpyDtoH", owner);
        assertArrayEquals(secret, back, "the owner's memory is untouched");
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldRejectUnknownHandles(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.1);
        final long stream = longOut(driver, "cuStreamCreate", out -> driver.streams().cuStreamCreate(out, 0));
        final long unknownStream = stream + 1000;
        expect(CUDA_ERROR_INVALID_HANDLE, driver.streams().cuStreamSynchronize(unknownStream),
            "cuStreamSynchronize(unknown)");
        expect(CUDA_ERROR_INVALID_HANDLE, driver.events().cuEventQuery(unknownStream), "cuEventQuery(unknown)");
        ok(driver.memory().cuMemsetD8Async(alloc(driver, 16), 0, 16, unknownStream), "queued memset on an unknown stream",
            driver);
        expect(CUDA_ERROR_INVALID_HANDLE, driver.contexts().cuCtxSynchronize(), "sync after using an unknown stream");
        expect(CUDA_ERROR_INVALID_HANDLE, driver.streams().cuStreamDestroy(0), "cuStreamDestroy(NULL stream)");
        ok(driver.memory().cuMemFree(0x7777), "queued free of a wild pointer", driver);
        expect(CUDA_ERROR_INVALID_VALUE, driver.contexts().cuCtxSynchronize(), "sync after freeing a wild pointer");
        expect(CUDA_ERROR_INVALID_CONTEXT, driver.contexts().cuCtxSetCurrent(0x1234), "cuCtxSetCurrent(unknown)");
        expect(CUDA_ERROR_INVALID_DEVICE, status(out -> driver.devices().cuDeviceTotalMem(out, 3)),
            "cuDeviceTotalMem(device 3)");
        expect(CUDA_ERROR_INVALID_HANDLE, status(out -> driver.functions().cuFuncGetAttribute(out, 0, 0x4242)),
            "cuFuncGetAttribute(unknown)");
        ok(driver.contexts().cuCtxSynchronize(), "the session still works", driver);
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldReportTheEmulatedDeviceAndRefuseAGarbageModule(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.1);
        assertEquals("Bitfusion Emulated GPU", deviceName(driver, 0));
        assertEquals(32, intOut(driver, "cuDeviceGetAttribute(WARP_SIZE)",
            out -> driver.devices().cuDeviceGetAttribute(out, 10, 0)));
        assertEquals(1024, intOut(driver, "cuDeviceGetAttribute(MAX_THREADS_PER_BLOCK)",
            out -> driver.devices().cuDeviceGetAttribute(out, 1, 0)));
        final int loaded = status(out -> cuModuleLoadData(driver, out, "this is not PTX".getBytes()));
        assertNotEquals(CUDA_SUCCESS, loaded, "garbage must not load");
        assertNotNull(driver.lastError(), "a failed load says why");
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldReadAndSetContextLimitsAndRefuseTheReadOnlyOnes(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.1);
        assertEquals(1024, longOut(driver, "cuCtxGetLimit(STACK_SIZE)", out -> driver.contexts().cuCtxGetLimit(out, 0)));
        assertEquals(1 << 20, longOut(driver, "cuCtxGetLimit(PRINTF_FIFO_SIZE)",
            out -> driver.contexts().cuCtxGetLimit(out, 1)));
        ok(driver.contexts().cuCtxSetLimit(0, 4096), "cuCtxSetLimit(STACK_SIZE)", driver);
        assertEquals(4096, longOut(driver, "cuCtxGetLimit(STACK_SIZE) after setting it",
            out -> driver.contexts().cuCtxGetLimit(out, 0)));
        expect(CUDA_ERROR_INVALID_VALUE, driver.contexts().cuCtxSetLimit(8, 1), "cuCtxSetLimit(CIG_ENABLED), read-only");
        expect(CUDA_ERROR_INVALID_VALUE, status(out -> driver.contexts().cuCtxGetLimit(out, 99)), "an unknown limit");
        ok(driver.contexts().cuCtxSynchronize(), "the session still works", driver);
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldServeConcurrentSessionsOnOneGpu(final String transport) throws Exception
    {
        final int tenants = 4;
        final List<RemoteDriver> tenantDrivers = new ArrayList<>();
        for (int i = 0; i < tenants; i++)
        {
            tenantDrivers.add(open(transport, 0.2));
        }
        final ExecutorService pool = Executors.newFixedThreadPool(tenants);
        try
        {
            final List<Future<?>> results = new ArrayList<>();
            for (int i = 0; i < tenants; i++)
            {
                final RemoteDriver driver = tenantDrivers.get(i);
                final int seed = i;
                results.add(pool.submit(() ->
                {
                    makePrimaryCurrent(driver);
                    copyAndVerify(driver, 4 << 20, seed, 8);
                    return null;
                }));
            }
            for (final Future<?> result : results)
            {
                result.get(60, TimeUnit.SECONDS);
            }
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldServeManyThreadsOfOneProgramEachWithItsOwnStream(final String transport) throws Exception
    {
        final RemoteDriver driver = open(transport, 0.3);
        final int threads = 6;
        final ExecutorService pool = Executors.newFixedThreadPool(threads);
        try
        {
            final List<Future<?>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++)
            {
                final int seed = 100 + i;
                results.add(pool.submit(() ->
                {
                    makePrimaryCurrent(driver);
                    final long stream = longOut(driver, "cuStreamCreate", out -> driver.streams().cuStreamCreate(out, 0));
                    final int size = (1 << 20) + seed;
                    final byte[] source = pattern(size, seed);
                    final long device = alloc(driver, size);
                    for (int round = 0; round < 5; round++)
                    {
                        ok(copyToDeviceAsync(driver, device, source, stream), "HtoD", driver);
                        final byte[] back = new byte[size];
                        ok(copyFromDeviceAsync(driver, back, device, stream), "DtoH", driver);
                        assertArrayEquals(source, back);
                    }
                    ok(driver.streams().cuStreamSynchronize(stream), "cuStreamSynchronize", driver);
                    return null;
                }));
            }
            for (final Future<?> result : results)
            {
                result.get(60, TimeUnit.SECONDS);
            }
        }
        finally
        {
            pool.shutdownNow();
        }
    }

    private static void copyAndVerify(final RemoteDriver driver, final int size, final int seed, final int rounds)
    {
        final long device = alloc(driver, size);
        for (int round = 0; round < rounds; round++)
        {
            final byte[] source = pattern(size, seed * 31 + round);
            ok(copyToDevice(driver, device, source), "cuMemcpyHtoD", driver);
            final byte[] back = new byte[size];
            ok(copyFromDevice(driver, back, device), "cuMemcpyDtoH", driver);
            assertArrayEquals(source, back, "tenant " + seed + " round " + round);
        }
        ok(driver.memory().cuMemFree(device), "cuMemFree", driver);
        assertEquals(CuResult.CUDA_SUCCESS, driver.contexts().cuCtxSynchronize());
    }
}
