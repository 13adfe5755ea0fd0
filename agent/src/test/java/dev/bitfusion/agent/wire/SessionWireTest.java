package dev.bitfusion.agent.wire;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.server.GpuServer;
import dev.bitfusion.server.ServerErrorLog;
import dev.bitfusion.server.backend.emulated.EmulatedBackend;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.protocol.SyncKind;
import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.DatagramSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.cuda.CuResult.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client's wire roles against a real server in this JVM (the emulated GPU), over shared memory: the
 * session proxy encodes and offers, the reply adapter routes what comes back to the waiting call, the control
 * client asks one-off questions.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SessionWireTest
{
    private static final long SLICE_MB = 64;

    private GpuServer server;
    private Endpoint endpoint;
    private ServerSession session;

    @BeforeEach
    void startServerAndOpenSession() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            endpoint = new Endpoint("127.0.0.1", socket.getLocalPort());
        }
        server = GpuServer.launch(new GpuServer.Context()
            .endpoint(endpoint)
            .backend(new EmulatedBackend(1, 256L << 20))
            .errorLog(new ServerErrorLog(new PrintStream(OutputStream.nullOutputStream()))));
        session = ServerSession.open(endpoint, 0, null, settings(), new PrintStream(OutputStream.nullOutputStream()));
    }

    @AfterEach
    void closeAll()
    {
        CloseHelper.quietCloseAll(session, server);
    }

    @Test
    void shouldAnswerAnAllocationWithAnAddressCountedAgainstTheSlice()
    {
        assertTrue(session.isIpc(), "a server on this host is reached over shared memory");
        assertEquals(SLICE_MB << 20, session.device().totalBytes());

        final CallSlot slot = session.slot();
        assertEquals(CUDA_SUCCESS, session.await(slot, session.proxy().memAlloc(slot, 1 << 20)));
        assertNotEquals(0, slot.value1());

        assertEquals(CUDA_SUCCESS, session.await(slot, session.proxy().memGetInfo(slot)));
        assertEquals((SLICE_MB << 20) - (1 << 20), slot.value1(), "free");
        assertEquals(SLICE_MB << 20, slot.value2(), "total");
    }

    @Test
    void shouldCarryBytesBothWaysInAsManyChunksAsTheStreamNeeds()
    {
        final int bytes = 3 << 20;
        try (NativeBuffer out = NativeBuffer.allocate(bytes); NativeBuffer back = NativeBuffer.allocate(bytes))
        {
            for (int i = 0; i < bytes; i++)
            {
                out.putByte(i, (byte)(i * 7 + (i >>> 10)));
            }
            final CallSlot slot = session.slot();
            assertEquals(CUDA_SUCCESS, session.await(slot, session.proxy().memAlloc(slot, bytes)));
            final long device = slot.value1();

            assertEquals(CUDA_SUCCESS, session.proxy().memcpyHtoD(0, device, out.address(), bytes));
            slot.copyInto(back.address(), bytes);
            assertEquals(CUDA_SUCCESS, session.await(slot, session.proxy().memcpyDtoH(slot, 0, device, bytes)));

            assertEquals(bytes, slot.copyReceivedBytes());
            final byte[] expected = new byte[bytes];
            final byte[] received = new byte[bytes];
            out.getBytes(0, expected);
            back.getBytes(0, received);
            assertArrayEquals(expected, received);
        }
    }

    @Test
    void shouldReportAnAsynchronousFailureAtTheNextSynchronisationOnly()
    {
        final PrintStream stderr = System.err;
        final ByteArrayOutputStream told = new ByteArrayOutputStream();
        System.setErr(new PrintStream(told));
        try
        {
            assertEquals(CUDA_SUCCESS, session.proxy().memFree(0xdead_0000L), "a free is sent without waiting");

            assertEquals(CUDA_ERROR_INVALID_VALUE, session.synchronize(SyncKind.CONTEXT_SYNCHRONIZE, 0));
            assertEquals(CUDA_SUCCESS, session.synchronize(SyncKind.CONTEXT_SYNCHRONIZE, 0), "taken once, not sticky");
        }
        finally
        {
            System.setErr(stderr);
        }
        assertTrue(told.toString().contains("cuMemFree"), told::toString);
    }

    @Test
    void shouldRouteEachThreadsReplyToThatThreadsCall() throws Exception
    {
        final List<CompletableFuture<List<Long>>> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++)
        {
            final int bytes = (t + 1) << 16;
            threads.add(CompletableFuture.supplyAsync(() ->
            {
                final List<Long> sizes = new ArrayList<>();
                final CallSlot slot = session.slot();
                for (int i = 0; i < 50; i++)
                {
                    assertEquals(CUDA_SUCCESS, session.await(slot, session.proxy().memAlloc(slot, bytes)));
                    final long address = slot.value1();
                    assertEquals(CUDA_SUCCESS, session.proxy().memFree(address));
                    assertEquals(CUDA_SUCCESS, session.synchronize(SyncKind.CONTEXT_SYNCHRONIZE, 0));
                    sizes.add(address);
                }
                return sizes;
            }));
        }
        for (final CompletableFuture<List<Long>> thread : threads)
        {
            assertEquals(50, thread.get(30, TimeUnit.SECONDS).size());
        }
        final CallSlot slot = session.slot();
        assertEquals(CUDA_SUCCESS, session.await(slot, session.proxy().memGetInfo(slot)));
        assertEquals(SLICE_MB << 20, slot.value1(), "every allocation was freed in its own thread's order");
    }

    @Test
    void shouldRefuseASessionOnAGpuTheServerLacksWithItsReason()
    {
        final SessionRefusedException refused = assertThrows(SessionRefusedException.class,
            () -> ServerSession.open(endpoint, 3, null, settings(), System.out));

        assertTrue(refused.getMessage().contains("NO_SUCH_GPU"), refused.getMessage());
    }

    @Test
    void shouldListTheSessionsSliceThroughTheControlClient()
    {
        final GpuPoolInfo pool = PoolQuery.listGpus(endpoint, TimeUnit.SECONDS.toNanos(10));

        assertEquals("emulated", pool.backend());
        assertEquals(1, pool.gpus().size());
        final GpuPoolInfo.Slice slice = pool.gpus().get(0).slices().get(0);
        assertEquals(session.sessionId(), slice.sessionId());
        assertEquals(SLICE_MB << 20, slice.sliceBytes());
    }

    @Test
    void shouldSayNoServerAnsweredWhenNoneListens() throws IOException
    {
        final Endpoint nobody;
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            nobody = new Endpoint("127.0.0.1", socket.getLocalPort());
        }

        final SessionRefusedException refused = assertThrows(SessionRefusedException.class,
            () -> PoolQuery.listGpus(nobody, TimeUnit.MILLISECONDS.toNanos(500)));

        assertTrue(refused.getMessage().contains("no answer from bitfusion server " + nobody), refused.getMessage());
    }

    private static ClientSettings settings()
    {
        return new ClientSettings().server(new Endpoint("127.0.0.1", 1)).transport("auto").memoryMb(SLICE_MB)
            .clientId("SessionWireTest");
    }
}
