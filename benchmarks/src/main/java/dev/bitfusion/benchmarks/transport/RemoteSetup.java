package dev.bitfusion.benchmarks.transport;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.server.GpuServer;
import dev.bitfusion.server.ServerErrorLog;
import dev.bitfusion.server.TokenAuthenticator;
import dev.bitfusion.server.backend.emulated.EmulatedBackend;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.transport.Endpoint;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.DatagramSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real server and a RemoteDriver session on it, over the transport a benchmark names.
 * <p>
 * Thread safety: one benchmark thread at a time (JMH's default), which may not be the one that set it up.
 */
final class RemoteSetup implements AutoCloseable
{
    final GpuServer server;
    final RemoteDriver driver;
    /** Where the driver writes out parameters, allocated once so that measured calls allocate nothing. */
    private final NativeBuffer out = NativeBuffer.allocate(Long.BYTES);

    /** The token of servers that require one. */
    /** The token of the benchmarks' servers that use one. */
    static final String TOKEN = "benchmark-token";

    /**
     * @param authentication "off" for a server without a token, "token" for one that requires it (and a client
     *                       that proves it, its requests tagged), "encrypted" for one that also requires encrypted
     *                       sessions (requests and replies encrypted and tagged).
     */
    RemoteSetup(final String transport, final long serverMemoryMb, final String authentication) throws IOException
    {
        final boolean withToken = switch (authentication)
        {
            case "off" -> false;
            case "token", "encrypted" -> true;
            default -> throw new IllegalArgumentException("authentication is off, token or encrypted: " + authentication);
        };
        final boolean encrypted = authentication.equals("encrypted");
        final int port;
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            port = socket.getLocalPort();
        }
        final Endpoint endpoint = new Endpoint("127.0.0.1", port);
        server = GpuServer.launch(new GpuServer.Context()
            .endpoint(endpoint)
            .backend(new EmulatedBackend(1, serverMemoryMb << 20))
            .authenticator(withToken ? tokenAuthenticator() : TokenAuthenticator.acceptAll())
            .encryptionRequired(encrypted)
            .errorLog(new ServerErrorLog(new PrintStream(OutputStream.nullOutputStream()))));
        driver = new RemoteDriver(new ClientSettings().server(endpoint).transport(transport).memoryFraction(1.0)
            .token(withToken ? TOKEN : "").encrypt(encrypted), System.out);
        check(driver.cuInit(0), "cuInit");
        makeContextCurrent();
    }

    /**
     * JMH calls benchmark methods on its own threads; each needs the context current.
     */
    void makeContextCurrent()
    {
        check(driver.contexts().cuCtxGetCurrent(out.address()), "cuCtxGetCurrent");
        if (out.getLong(0) == 0)
        {
            check(driver.contexts().cuDevicePrimaryCtxRetain(out.address(), 0), "cuDevicePrimaryCtxRetain");
            check(driver.contexts().cuCtxSetCurrent(out.getLong(0)), "cuCtxSetCurrent");
        }
    }

    /**
     * @return an authenticator of {@link #TOKEN}, read from a file as a server reads its --token-file.
     */
    static TokenAuthenticator tokenAuthenticator() throws IOException
    {
        final Path tokenFile = Files.createTempFile("bitfusion-benchmark-token", ".txt");
        try
        {
            Files.writeString(tokenFile, TOKEN);
            return TokenAuthenticator.fromFile(tokenFile);
        }
        finally
        {
            Files.delete(tokenFile);
        }
    }

    long alloc(final long bytes)
    {
        check(driver.memory().cuMemAlloc(out.address(), bytes), "cuMemAlloc");
        return out.getLong(0);
    }

    static void check(final int result, final String call)
    {
        if (result != CuResult.CUDA_SUCCESS)
        {
            throw new IllegalStateException(call + " failed: " + CuResult.describe(result));
        }
    }

    public void close()
    {
        driver.close();
        server.close();
        out.close();
    }
}
