package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.GpuPoolInfo;
import dev.bitfusion.agent.PoolQuery;
import dev.bitfusion.agent.RemoteDriver;
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
        assertEquals(transport.equals("ipc"), driver.connection(0).isIpc());
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
            ok(driver.cuMemcpyHtoD(device, source, 0, size), "cuMemcpyHtoD " + size, driver);
            final byte[] back = new byte[size];
            ok(driver.cuMemcpyDtoH(back, 0, device, size), "cuMemcpyDtoH " + size, driver);
            assertArrayEquals(source, back, "content after a round trip of " + size + " bytes");
            ok(driver.cuMemFree(device), "cuMemFree", driver);
        }
        ok(driver.cuCtxSynchronize(), "cuCtxSynchronize", driver);
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
        final long[] stream = new long[1];
        ok(driver.cuStreamCreate(stream, 0), "cuStreamCreate", driver);
        ok(driver.cuMemcpyHtoDAsync(a, source, 0, size, stream[0]), "cuMemcpyHtoDAsync", driver);
        ok(driver.cuMemcpyDtoDAsync(b + 100, a, size - 100, stream[0]), "cuMemcpyDtoDAsync", driver);
        ok(driver.cuStreamSynchronize(stream[0]), "cuStreamSynchronize", driver);
        final byte[] back = new byte[size - 100];
        ok(driver.cuMemcpyDtoHAsync(back, 0, b + 100, size - 100, stream[0]), "cuMemcpyDtoHAsync", driver);
        assertArrayEquals(Arrays.copyOf(source, size - 100), back);
        ok(driver.cuStreamDestroy(stream[0]), "cuStreamDestroy", driver);
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldMemsetWith8And16And32BitValuesAndIn2D(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.1);
        final int size = 1 << 16;
        final long device = alloc(driver, size);
        ok(driver.cuMemsetD8(device, 0xAB, size), "cuMemsetD8", driver);
        ok(driver.cuMemsetD16(device + 2, 0x1234, 10), "cuMemsetD16", driver);
        ok(driver.cuMemsetD32(device + 64, 0xCAFEBABE, 4), "cuMemsetD32", driver);
        ok(driver.cuMemsetD2D(device + 1024, 256, 0x77, 1, 16, 4, 0), "cuMemsetD2D8", driver);
        final byte[] back = new byte[size];
        ok(driver.cuMemcpyDtoH(back, 0, device, size), "cuMemcpyDtoH", driver);

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
        final long[] producer = new long[1];
        final long[] consumer = new long[1];
        final long[] start = new long[1];
        final long[] copied = new long[1];
        final long[] untimed = new long[1];
        ok(driver.cuStreamCreate(producer, 0), "cuStreamCreate", driver);
        ok(driver.cuStreamCreate(consumer, 0), "cuStreamCreate", driver);
        ok(driver.cuEventCreate(start, 0), "cuEventCreate", driver);
        ok(driver.cuEventCreate(copied, 0), "cuEventCreate", driver);
        ok(driver.cuEventCreate(untimed, RemoteDriver.CU_EVENT_DISABLE_TIMING), "cuEventCreate", driver);

        ok(driver.cuEventRecord(start[0], producer[0]), "cuEventRecord", driver);
        ok(driver.cuMemcpyHtoDAsync(a, source, 0, size, producer[0]), "cuMemcpyHtoDAsync", driver);
        ok(driver.cuMemcpyDtoDAsync(b, a, size, producer[0]), "cuMemcpyDtoDAsync", driver);
        ok(driver.cuEventRecord(copied[0], producer[0]), "cuEventRecord", driver);
        ok(driver.cuEventRecord(untimed[0], producer[0]), "cuEventRecord", driver);
        ok(driver.cuStreamWaitEvent(consumer[0], copied[0], 0), "cuStreamWaitEvent", driver);
        final byte[] back = new byte[size];
        ok(driver.cuMemcpyDtoHAsync(back, 0, b, size, consumer[0]), "cuMemcpyDtoHAsync", driver);
        assertArrayEquals(source, back, "the consumer stream saw the producer's copy");

        ok(driver.cuEventSynchronize(copied[0]), "cuEventSynchronize", driver);
        ok(driver.cuEventQuery(copied[0]), "cuEventQuery", driver);
        ok(driver.cuStreamQuery(producer[0]), "cuStreamQuery", driver);
        final float[] milliseconds = new float[1];
        ok(driver.cuEventElapsedTime(milliseconds, start[0], copied[0]), "cuEventElapsedTime", driver);
        assertTrue(milliseconds[0] >= 0 && milliseconds[0] < 60_000, "elapsed " + milliseconds[0] + " ms");
        expect(CUDA_ERROR_INVALID_HANDLE, driver.cuEventElapsedTime(milliseconds, start[0], untimed[0]),
            "cuEventElapsedTime with a DISABLE_TIMING event");

        ok(driver.cuEventDestroy(start[0]), "cuEventDestroy", driver);
        ok(driver.cuStreamDestroy(producer[0]), "cuStreamDestroy", driver);
        ok(driver.cuCtxSynchronize(), "cuCtxSynchronize", driver);
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldEnforceAFractionalSliceAndReportIt(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.25);
        final long slice = (SERVER_MEMORY_MB << 20) / 4;
        final long[] total = new long[1];
        final long[] free = new long[1];
        final long[] infoTotal = new long[1];
        ok(driver.cuDeviceTotalMem(total, 0), "cuDeviceTotalMem", driver);
        assertEquals(slice, total[0]);

        final long first = alloc(driver, slice - (1 << 20));
        ok(driver.cuMemGetInfo(free, infoTotal), "cuMemGetInfo", driver);
        assertEquals(slice, infoTotal[0]);
        assertEquals(1 << 20, free[0]);

        final long[] overflow = new long[1];
        expect(CUDA_ERROR_OUT_OF_MEMORY, driver.cuMemAlloc(overflow, 2 << 20), "cuMemAlloc past the slice");
        assertTrue(driver.lastError().contains("exceeds the slice"), driver.lastError());
        ok(driver.cuMemFree(first), "cuMemFree", driver);
        alloc(driver, slice);
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldEnforceASliceInMegabytes(final String transport)
    {
        final RemoteDriver driver = open(transport, new ClientSettings().memoryMb(64));
        final long[] total = new long[1];
        ok(driver.cuDeviceTotalMem(total, 0), "cuDeviceTotalMem", driver);
        assertEquals(64L << 20, total[0]);
        final long[] address = new long[1];
        expect(CUDA_ERROR_OUT_OF_MEMORY, driver.cuMemAlloc(address, (64L << 20) + 1), "cuMemAlloc of 64 MiB + 1");
        alloc(driver, 32L << 20);
        expect(CUDA_ERROR_OUT_OF_MEMORY, driver.cuMemAlloc(address, (32L << 20) + 1), "cuMemAlloc of the rest + 1");
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
        ok(owner.cuMemcpyHtoD(ownersMemory, secret, 0, secret.length), "cuMemcpyHtoD", owner);

        final byte[] stolen = new byte[secret.length];
        expect(CUDA_ERROR_INVALID_VALUE, intruder.cuMemcpyDtoH(stolen, 0, ownersMemory, secret.length),
            "cuMemcpyDtoH from another tenant's memory");
        ok(intruder.cuMemcpyHtoD(ownersMemory, new byte[secret.length], 0, secret.length), "queued HtoD", intruder);
        expect(CUDA_ERROR_INVALID_VALUE, intruder.cuCtxSynchronize(), "sync after writing to another tenant's memory");
        ok(intruder.cuMemsetD8(ownersMemory, 0, secret.length), "queued memset", intruder);
        expect(CUDA_ERROR_INVALID_VALUE, intruder.cuCtxSynchronize(), "sync after a memset of another tenant's memory");
        expect(CUDA_ERROR_INVALID_VALUE, intruder.cuMemcpyDtoH(stolen, 0, 0x1000, 16), "cuMemcpyDtoH from a wild pointer");
        ok(intruder.cuCtxSynchronize(), "errors are reported once", intruder);

        final long intrudersMemory = alloc(intruder, 16);
        ok(intruder.cuMemcpyHtoD(intrudersMemory, new byte[32], 0, 32), "queued overflowing HtoD", intruder);
        expect(CUDA_ERROR_INVALID_VALUE, intruder.cuCtxSynchronize(), "sync after a copy past its own allocation");

        final byte[] back = new byte[secret.length];
        ok(owner.cuMemcpyDtoH(back, 0, ownersMemory, secret.length), "cuMemcpyDtoH", owner);
        assertArrayEquals(secret, back, "the owner's memory is untouched");
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldRejectUnknownHandles(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.1);
        final long[] stream = new long[1];
        ok(driver.cuStreamCreate(stream, 0), "cuStreamCreate", driver);
        final long unknownStream = stream[0] + 1000;
        expect(CUDA_ERROR_INVALID_HANDLE, driver.cuStreamSynchronize(unknownStream), "cuStreamSynchronize(unknown)");
        expect(CUDA_ERROR_INVALID_HANDLE, driver.cuEventQuery(unknownStream), "cuEventQuery(unknown)");
        ok(driver.cuMemsetD8Async(alloc(driver, 16), 0, 16, unknownStream), "queued memset on an unknown stream", driver);
        expect(CUDA_ERROR_INVALID_HANDLE, driver.cuCtxSynchronize(), "sync after using an unknown stream");
        expect(CUDA_ERROR_INVALID_HANDLE, driver.cuStreamDestroy(0), "cuStreamDestroy(NULL stream)");
        ok(driver.cuMemFree(0x7777), "queued free of a wild pointer", driver);
        expect(CUDA_ERROR_INVALID_VALUE, driver.cuCtxSynchronize(), "sync after freeing a wild pointer");
        expect(CUDA_ERROR_INVALID_CONTEXT, driver.cuCtxSetCurrent(0x1234), "cuCtxSetCurrent(unknown)");
        expect(CUDA_ERROR_INVALID_DEVICE, driver.cuDeviceTotalMem(new long[1], 3), "cuDeviceTotalMem(device 3)");
        final int[] value = new int[1];
        expect(CUDA_ERROR_INVALID_HANDLE, driver.cuFuncGetAttribute(value, 0, 0x4242), "cuFuncGetAttribute(unknown)");
        ok(driver.cuCtxSynchronize(), "the session still works", driver);
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldReportTheEmulatedDeviceAndRefuseAGarbageModule(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.1);
        final String[] name = new String[1];
        ok(driver.cuDeviceGetName(name, 0), "cuDeviceGetName", driver);
        assertEquals("Bitfusion Emulated GPU", name[0]);
        final int[] value = new int[1];
        ok(driver.cuDeviceGetAttribute(value, 10, 0), "cuDeviceGetAttribute(WARP_SIZE)", driver);
        assertEquals(32, value[0]);
        ok(driver.cuDeviceGetAttribute(value, 1, 0), "cuDeviceGetAttribute(MAX_THREADS_PER_BLOCK)", driver);
        assertEquals(1024, value[0]);
        final String[] errorName = new String[1];
        ok(driver.cuGetErrorName(CUDA_ERROR_OUT_OF_MEMORY, errorName), "cuGetErrorName", driver);
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", errorName[0]);
        final long[] module = new long[1];
        final int loaded = driver.cuModuleLoadData(module, "this is not PTX".getBytes());
        assertNotEquals(CUDA_SUCCESS, loaded, "garbage must not load");
        assertNotNull(driver.lastError(), "a failed load says why");
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldReadAndSetContextLimitsAndRefuseTheReadOnlyOnes(final String transport)
    {
        final RemoteDriver driver = open(transport, 0.1);
        final long[] value = new long[1];
        ok(driver.cuCtxGetLimit(value, 0), "cuCtxGetLimit(STACK_SIZE)", driver);
        assertEquals(1024, value[0]);
        ok(driver.cuCtxGetLimit(value, 1), "cuCtxGetLimit(PRINTF_FIFO_SIZE)", driver);
        assertEquals(1 << 20, value[0]);
        ok(driver.cuCtxSetLimit(0, 4096), "cuCtxSetLimit(STACK_SIZE)", driver);
        ok(driver.cuCtxGetLimit(value, 0), "cuCtxGetLimit(STACK_SIZE) after setting it", driver);
        assertEquals(4096, value[0]);
        expect(CUDA_ERROR_INVALID_VALUE, driver.cuCtxSetLimit(8, 1), "cuCtxSetLimit(CIG_ENABLED), read-only");
        expect(CUDA_ERROR_INVALID_VALUE, driver.cuCtxGetLimit(value, 99), "an unknown limit");
        ok(driver.cuCtxSynchronize(), "the session still works", driver);
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
                    final long[] stream = new long[1];
                    ok(driver.cuStreamCreate(stream, 0), "cuStreamCreate", driver);
                    final int size = (1 << 20) + seed;
                    final byte[] source = pattern(size, seed);
                    final long device = alloc(driver, size);
                    for (int round = 0; round < 5; round++)
                    {
                        ok(driver.cuMemcpyHtoDAsync(device, source, 0, size, stream[0]), "HtoD", driver);
                        final byte[] back = new byte[size];
                        ok(driver.cuMemcpyDtoHAsync(back, 0, device, size, stream[0]), "DtoH", driver);
                        assertArrayEquals(source, back);
                    }
                    ok(driver.cuStreamSynchronize(stream[0]), "cuStreamSynchronize", driver);
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
            ok(driver.cuMemcpyHtoD(device, source, 0, size), "cuMemcpyHtoD", driver);
            final byte[] back = new byte[size];
            ok(driver.cuMemcpyDtoH(back, 0, device, size), "cuMemcpyDtoH", driver);
            assertArrayEquals(source, back, "tenant " + seed + " round " + round);
        }
        ok(driver.cuMemFree(device), "cuMemFree", driver);
        assertEquals(CuResult.CUDA_SUCCESS, driver.cuCtxSynchronize());
    }
}
