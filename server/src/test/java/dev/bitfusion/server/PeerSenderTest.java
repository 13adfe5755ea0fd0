package dev.bitfusion.server;

import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.server.backend.emulated.EmulatedBackend;
import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.TransportSettings;
import dev.bitfusion.transport.auth.PeerKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.DatagramSocket;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_INVALID_VALUE;
import static dev.bitfusion.cuda.CuResult.CUDA_SUCCESS;
import static dev.bitfusion.server.IpcFixture.launchTransport;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sending end of a copy between servers when the receiver is not there: the copy is refused as unreachable
 * within the connect timeout, with nothing sent but Aeron's setup frames, and a malformed address is refused at once.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PeerSenderTest
{
    private final EmulatedBackend backend = new EmulatedBackend(1, 64 << 20);
    private final CallResult callResult = new CallResult();
    private AeronTransport transport;
    private BackendSession tenant;
    private PeerSender sender;
    private long src;

    @BeforeEach
    void open()
    {
        transport = launchTransport(TimeUnit.SECONDS.toNanos(2));
        tenant = backend.openSession(0, new Reservation(1, 0, 16 << 20, "test").budget());
        assertEquals(CUDA_SUCCESS, tenant.memAlloc(4096, callResult.reset()));
        src = callResult.value1;
        sender = new PeerSender(transport.aeron(), new TransportSettings(), TimeUnit.SECONDS.toNanos(2));
    }

    @AfterEach
    void close()
    {
        tenant.close();
        transport.close();
    }

    @Test
    void shouldAnswerUnreachableWhenNoServerSubscribesAtTheAddress() throws IOException
    {
        final String nobody = "127.0.0.1:" + freePort();
        final long startNs = System.nanoTime();

        final int status = sender.send(tenant, 0, src, 4096, 100_321, nobody,
            PeerKeys.chunkAuthenticator(PeerKeys.newKey(), false), text -> { }, callResult.reset());

        final long tookNs = System.nanoTime() - startNs;
        assertEquals(PeerSender.UNREACHABLE, status, callResult.message);
        assertTrue(callResult.message.contains("cannot reach each other"), callResult.message);
        assertTrue(tookNs >= PeerSender.CONNECT_TIMEOUT_NS && tookNs < PeerSender.CONNECT_TIMEOUT_NS * 3,
            "took " + TimeUnit.NANOSECONDS.toMillis(tookNs) + " ms");
    }

    @Test
    void shouldRefuseAnAddressThatIsNotHostAndPort()
    {
        final int status = sender.send(tenant, 0, src, 4096, 100_321, "gpu-b:no-port",
            PeerKeys.chunkAuthenticator(PeerKeys.newKey(), false), text -> { }, callResult.reset());

        assertEquals(CUDA_ERROR_INVALID_VALUE, status);
        assertTrue(callResult.message.contains("is not HOST:PORT"), callResult.message);
    }

    private static int freePort() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            return socket.getLocalPort();
        }
    }
}
