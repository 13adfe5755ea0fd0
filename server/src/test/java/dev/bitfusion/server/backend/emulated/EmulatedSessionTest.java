package dev.bitfusion.server.backend.emulated;

import dev.bitfusion.server.backend.SliceBudget;
import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.transport.protocol.SyncKind;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.function.Consumer;

import static dev.bitfusion.cuda.CuResult.*;
import static org.junit.jupiter.api.Assertions.*;

class EmulatedSessionTest
{
    private static final Consumer<String> NO_OUTPUT = text -> fail("a synchronisation printed " + text);

    private final EmulatedBackend backend = new EmulatedBackend(1, 64 << 20);
    private final BackendSession session = backend.openSession(0, new SliceBudget(1 << 20));
    private final CallResult result = new CallResult();

    @AfterEach
    void close()
    {
        session.close();
    }

    private long alloc(final long bytes)
    {
        assertEquals(CUDA_SUCCESS, session.memAlloc(bytes, result.reset()));
        return result.value1;
    }

    private byte[] read(final long address, final int length)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final int status = session.copyDeviceToHost(0, address, length, 100, (offset, host, chunk) ->
        {
            final byte[] bytes = new byte[chunk];
            new UnsafeBuffer(host, chunk).getBytes(0, bytes);
            out.writeBytes(bytes);
            return true;
        }, NO_OUTPUT);
        assertEquals(CUDA_SUCCESS, status);
        return out.toByteArray();
    }

    @Test
    void shouldFillD16AndD32PatternsExactly()
    {
        final long address = alloc(1000);
        assertEquals(CUDA_SUCCESS, session.memset(0, address, 0xBEEF, 2, 3, 1, 0));
        assertEquals(CUDA_SUCCESS, session.memset(0, address + 8, 0x01020304, 4, 5, 1, 0));
        final byte[] bytes = read(address, 32);
        assertArrayEquals(new byte[]{ (byte)0xEF, (byte)0xBE, (byte)0xEF, (byte)0xBE, (byte)0xEF, (byte)0xBE, 0, 0,
            4, 3, 2, 1, 4, 3, 2, 1, 4, 3, 2, 1, 4, 3, 2, 1, 4, 3, 2, 1, 0, 0, 0, 0 }, bytes);
    }

    @Test
    void shouldRejectMisalignedOrOverflowingMemsets()
    {
        final long address = alloc(64);
        assertEquals(CUDA_ERROR_INVALID_VALUE, session.memset(0, address + 1, 0, 4, 1, 1, 0));
        assertEquals(CUDA_ERROR_INVALID_VALUE, session.memset(0, address, 0, 4, 17, 1, 0));
        assertEquals(CUDA_ERROR_INVALID_VALUE, session.memset(0, address, 0, 3, 1, 1, 0));
        assertEquals(CUDA_ERROR_INVALID_VALUE, session.memset(0, address, 0, 1, 8, 9, 8));
        assertEquals(CUDA_SUCCESS, session.memset(0, address, 0, 1, 8, 8, 8));
    }

    @Test
    void shouldRejectMemsetsWhoseSpanWouldWrapAroundInsteadOfWritingPastTheAllocation()
    {
        final long address = alloc(64);
        // Found by the wire fuzzer: width * elementSize and (height - 1) * pitch wrapped to a span of a few
        // bytes that passed the bounds check, and the rows written ran off the allocation (the JVM crashed).
        assertEquals(CUDA_ERROR_INVALID_VALUE, session.memset(0, address, 0, 4, 1L << 62, 1, 0));
        assertEquals(CUDA_ERROR_INVALID_VALUE, session.memset(0, address, 0, 4, Long.MAX_VALUE / 2, 1, 0));
        assertEquals(CUDA_ERROR_INVALID_VALUE, session.memset(0, address, 0, 1, 8, 3, Long.MAX_VALUE / 2 + 1));
        assertEquals(CUDA_ERROR_INVALID_VALUE, session.memset(0, address, 0, 1, 8, Long.MAX_VALUE, 1L << 62));
        assertEquals(CUDA_ERROR_INVALID_VALUE, session.memset(0, address, 0, 1, -1, 1, 0));
        assertEquals(CUDA_SUCCESS, session.memset(0, address, 7, 1, 64, 1, 0));
    }

    @Test
    void shouldStreamDeviceToHostInPiecesNoBiggerThanAsked()
    {
        final long address = alloc(1000);
        assertEquals(CUDA_SUCCESS, session.memset(0, address, 7, 1, 1000, 1, 0));
        final int[] pieces = new int[1];
        assertEquals(CUDA_SUCCESS, session.copyDeviceToHost(0, address, 1000, 128, (offset, host, length) ->
        {
            assertTrue(length <= 128);
            assertEquals(pieces[0] * 128L, offset);
            pieces[0]++;
            return true;
        }, NO_OUTPUT));
        assertEquals(8, pieces[0]);
        assertEquals(CUDA_ERROR_INVALID_VALUE, session.copyDeviceToHost(0, address + 1, 1000, 128, (o, h, l) -> true,
            NO_OUTPUT));
    }

    @Test
    void shouldHoldAllocationsToTheSliceAndReportThem()
    {
        alloc(600_000);
        assertEquals(CUDA_ERROR_OUT_OF_MEMORY, session.memAlloc(600_000, result.reset()));
        assertTrue(result.message.contains("exceeds the slice"));
        assertEquals(600_000, session.allocatedBytes());
        assertEquals(CUDA_ERROR_INVALID_VALUE, session.memAlloc(0, result.reset()));
    }

    @Test
    void shouldKeepStreamsAndEventsByHandle()
    {
        assertEquals(CUDA_SUCCESS, session.streamCreate(0x1000, 0, 0, 0));
        assertEquals(CUDA_ERROR_INVALID_VALUE, session.streamCreate(0x1000, 0, 0, 0));
        assertEquals(CUDA_ERROR_INVALID_CONTEXT, session.streamCreate(0x1001, 0x99, 0, 0));
        assertEquals(CUDA_SUCCESS, session.eventCreate(0x2000, 0, 0));
        assertEquals(CUDA_SUCCESS, session.eventCreate(0x2001, 0, 0));
        assertEquals(CUDA_ERROR_INVALID_HANDLE, session.eventElapsedTime(0x2000, 0x2001, result.reset()));
        assertEquals(CUDA_SUCCESS, session.eventRecord(0x2000, 0x1000));
        assertEquals(CUDA_SUCCESS, session.eventRecord(0x2001, 0));
        assertEquals(CUDA_SUCCESS, session.eventElapsedTime(0x2000, 0x2001, result.reset()));
        assertTrue(Float.intBitsToFloat((int)result.value1) >= 0);
        assertEquals(CUDA_SUCCESS, session.synchronize(SyncKind.STREAM_QUERY, 0x1000, NO_OUTPUT));
        assertEquals(CUDA_SUCCESS, session.streamDestroy(0x1000));
        assertEquals(CUDA_ERROR_INVALID_HANDLE, session.synchronize(SyncKind.STREAM_SYNCHRONIZE, 0x1000, NO_OUTPUT));
        assertEquals(CUDA_ERROR_INVALID_HANDLE, session.eventRecord(0x2000, 0x1000));
        assertEquals(CUDA_ERROR_INVALID_VALUE, session.synchronize(SyncKind.NULL_VAL, 0, NO_OUTPUT));
    }

    @Test
    void shouldFreeEverythingOnClose()
    {
        final BackendSession other = backend.openSession(0, new SliceBudget(1 << 20));
        final long address = alloc(4096);
        session.close();
        assertEquals(0, session.allocatedBytes());
        assertEquals(CUDA_ERROR_INVALID_VALUE, other.memFree(address));
        other.close();
    }
}
