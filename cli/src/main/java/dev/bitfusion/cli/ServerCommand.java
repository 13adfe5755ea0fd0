package dev.bitfusion.cli;

import dev.bitfusion.server.GpuServer;
import dev.bitfusion.server.TokenAuthenticator;
import dev.bitfusion.server.backend.GpuBackend;
import dev.bitfusion.server.backend.cuda.CudaBackend;
import dev.bitfusion.server.backend.cuda.CudaUnavailableException;
import dev.bitfusion.server.backend.emulated.EmulatedBackend;
import dev.bitfusion.transport.Endpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code bitfusion server}: run a GPU server until stopped (SIGTERM or Ctrl-C).
 */
@Command(name = "server", mixinStandardHelpOptions = true, description = "Run a GPU server on this host.")
final class ServerCommand implements Callable<Integer>
{
    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Address to listen on (default 0.0.0.0:56001).")
    String listen = "0.0.0.0:56001";

    @Option(names = "--backend", paramLabel = "KIND", description = "emulated, cuda or auto (default auto).")
    String backend = "auto";

    @Option(names = "--gpus", paramLabel = "N", description = "Emulated GPUs to offer (default 1).")
    int gpus = 1;

    @Option(names = "--memory-mb", paramLabel = "MB", description = "Memory of each emulated GPU (default 16384).")
    long memoryMb = 16384;

    @Option(names = "--max-sessions", paramLabel = "N", description = "Sessions served at once (default 128).")
    int maxSessions = GpuServer.Context.MAX_SESSIONS_DEFAULT;

    @Option(names = "--low-latency",
        description = "Dedicated busy-spinning transport threads (needs spare cores); default: shared, backoff.")
    boolean lowLatency;

    @Option(names = "--token-file", paramLabel = "FILE",
        description = "Serve only clients that prove this token (sessions, list_gpus, health); their requests are then authenticated.")
    Path tokenFile;

    @Option(names = "--encrypt",
        description = "Serve only encrypted sessions: clients must ask for encryption (BITFUSION_ENCRYPT=1, " +
            "bitfusion run --encrypt); needs --token-file.")
    boolean encrypt;

    @Option(names = "--admin-token-file", paramLabel = "FILE",
        description = "The administrator's token, which also shows who holds each slice (needs --token-file).")
    Path adminTokenFile;

    @Option(names = "--host-memory-mb", paramLabel = "MB",
        description = "Host memory all tenants together may make the server hold (module images); " +
            "default half the JVM's maximum heap.")
    long hostMemoryMb;

    @Option(names = "--tenant-host-memory-mb", paramLabel = "MB",
        description = "Host memory one tenant may make the server hold; default a quarter of --host-memory-mb, " +
            "between 64 and 1024.")
    long tenantHostMemoryMb;

    public Integer call() throws Exception
    {
        final GpuServer.Context context = new GpuServer.Context()
            .endpoint(Endpoint.parse(listen))
            .backend(createBackend(backend, gpus, memoryMb))
            .authenticator(authenticator());
        context.transportSettings().lowLatency(lowLatency);
        context.maxSessions(maxSessions);
        context.encryptionRequired(encrypt);
        context.hostMemory(hostMemoryMb << 20, tenantHostMemoryMb << 20);

        final CountDownLatch stopped = new CountDownLatch(1);
        try (GpuServer server = GpuServer.launch(context))
        {
            final String exposure = exposureWarning(context.endpoint(), context.authenticator().required());
            if (exposure != null)
            {
                System.err.println(exposure);
                System.err.flush();
            }
            System.out.println(server.describe());
            System.out.flush();
            Runtime.getRuntime().addShutdownHook(new Thread(() ->
            {
                server.close();
                stopped.countDown();
            }, "bitfusion-shutdown"));
            while (!stopped.await(200, TimeUnit.MILLISECONDS))
            {
                final String failure = server.failure();
                if (failure != null)
                {
                    System.err.println("bitfusion server: stopping, it can no longer serve: " + failure);
                    return 1;
                }
            }
        }
        return 0;
    }

    private TokenAuthenticator authenticator() throws IOException
    {
        if (tokenFile == null)
        {
            if (adminTokenFile != null)
            {
                throw new IllegalArgumentException("--admin-token-file needs --token-file: a server without a token " +
                    "serves everyone alike");
            }
            return TokenAuthenticator.acceptAll();
        }
        return TokenAuthenticator.fromFiles(tokenFile, adminTokenFile);
    }

    /**
     * @param endpoint      where the server listens.
     * @param tokenRequired whether it has a token.
     * @return the warning a server reachable from other hosts without a token must give, or null when it is
     * reachable from this host only or requires a token.
     */
    static String exposureWarning(final Endpoint endpoint, final boolean tokenRequired)
    {
        if (tokenRequired || Endpoint.isLoopback(endpoint.host()))
        {
            return null;
        }
        final String rule = "*".repeat(100);
        return String.join(System.lineSeparator(),
            rule,
            "bitfusion server: WARNING: listening on " + endpoint + " WITHOUT A TOKEN.",
            "  Anyone who can reach this port can open sessions on its GPUs, use their memory and list its tenants.",
            "  Create a token and restart with it:",
            "    install -d -m 700 /etc/bitfusion && head -c 32 /dev/urandom | base64 > /etc/bitfusion/token && " +
                "chmod 600 /etc/bitfusion/token",
            "    bitfusion server --listen " + endpoint + " --token-file /etc/bitfusion/token",
            "  and give clients the same token (BITFUSION_TOKEN, or ~/.bitfusion/token).",
            rule);
    }

    /**
     * @param kind   emulated, cuda or auto.
     * @param gpus   emulated GPU count.
     * @param memoryMb emulated GPU memory.
     * @return the backend.
     */
    static GpuBackend createBackend(final String kind, final int gpus, final long memoryMb)
    {
        switch (kind)
        {
            case "emulated":
                return new EmulatedBackend(gpus, memoryMb << 20);
            case "auto":
                try
                {
                    final GpuBackend cuda = CudaBackend.open();
                    System.err.println("bitfusion server: backend auto picks cuda: " + cuda.gpus().size() + " GPU(s), " +
                        cuda.gpus().get(0).name());
                    return cuda;
                }
                catch (final CudaUnavailableException ex)
                {
                    System.err.println("bitfusion server: backend auto picks emulated: " + ex.getMessage());
                    return new EmulatedBackend(gpus, memoryMb << 20);
                }
            case "cuda":
                try
                {
                    return CudaBackend.open();
                }
                catch (final CudaUnavailableException ex)
                {
                    throw new IllegalArgumentException("the cuda backend is unavailable: " + ex.getMessage() +
                        "; install the NVIDIA driver on a GPU host, or use --backend emulated");
                }
            default:
                throw new IllegalArgumentException("unknown backend '" + kind + "': use emulated, cuda or auto");
        }
    }
}
