package dev.bitfusion.server;

import dev.bitfusion.server.backend.GpuBackend;
import dev.bitfusion.server.backend.GpuDescriptor;
import dev.bitfusion.transport.DirectoryInUseException;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.TransportSettings;
import org.agrona.CloseHelper;

import java.io.IOException;
import java.net.InetAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The GPU server: owns the media driver, the control agents, the sessions and the backend.
 * <p>
 * It listens on UDP at its endpoint and, for clients on the same host that share its Aeron directory,
 * on IPC. The control stream's {@link ControlAdapter} and {@link ControlReplySender} share one thread; each
 * session ({@link ClientSession}) runs on its own. Counters of each GPU and session live in the media driver's
 * counters file. All that lives on the media driver is one {@link ServerTransport}, replaced whole when a pause
 * closes it: the server outlives stalls, and only the sessions that timed out end.
 * <p>
 * Thread safety: start and close on one thread; the accessors from any thread. A replacement of the transport runs
 * on a thread of its own and excludes {@link #close()}.
 */
public final class GpuServer implements AutoCloseable
{
    /**
     * Configuration of a server; {@link #conclude()} validates it once.
     */
    public static final class Context
    {
        /** Sessions one server serves at once unless configured otherwise. */
        public static final int MAX_SESSIONS_DEFAULT = 128;
        /** Control requests one source may send at once (see {@link SourceRateLimiter}). */
        public static final String CONTROL_BURST_PROP_NAME = "bitfusion.server.control.burst";
        public static final int CONTROL_BURST_DEFAULT = 16;
        /** Control requests one source may send each second after a burst. */
        public static final String CONTROL_RATE_PROP_NAME = "bitfusion.server.control.requests.per.second";
        public static final int CONTROL_RATE_DEFAULT = 4;

        /**
         * The server's peer timeout unless {@link TransportSettings#PEER_TIMEOUT_PROP_NAME} says otherwise: a UDP
         * client silent this long is gone; its driver tells the session about a second later, so a killed client's
         * slice is free within 3 s (an IPC client's sooner, by its process lock). A live client's driver beats
         * every 100 ms, and the server's driver reads what arrived before it judges, so a loaded host does not make
         * live clients look dead.
         */
        public static final long CLIENT_TIMEOUT_MS_DEFAULT = 1500;

        private Endpoint endpoint = new Endpoint("0.0.0.0", Protocol.DEFAULT_PORT);
        private GpuBackend backend;
        private TokenAuthenticator authenticator = TokenAuthenticator.acceptAll();
        private TransportSettings transportSettings = new TransportSettings();
        private ServerErrorLog errorLog = new ServerErrorLog(System.err);
        private int maxSessions = MAX_SESSIONS_DEFAULT;
        private boolean encryptionRequired;
        private int controlBurst = Integer.getInteger(CONTROL_BURST_PROP_NAME, CONTROL_BURST_DEFAULT);
        private int controlRequestsPerSecond = Integer.getInteger(CONTROL_RATE_PROP_NAME, CONTROL_RATE_DEFAULT);
        private long hostMemoryCapBytes = Long.getLong(HostMemoryBudget.CAP_PROP_NAME, 0);
        private long tenantHostMemoryBytes = Long.getLong(HostMemoryBudget.TENANT_PROP_NAME, 0);
        private HostMemoryBudget hostMemoryBudget;
        private String hostname;

        public Context endpoint(final Endpoint endpoint)
        {
            this.endpoint = endpoint;
            return this;
        }

        public Endpoint endpoint()
        {
            return endpoint;
        }

        public Context backend(final GpuBackend backend)
        {
            this.backend = backend;
            return this;
        }

        public GpuBackend backend()
        {
            return backend;
        }

        public Context authenticator(final TokenAuthenticator authenticator)
        {
            this.authenticator = authenticator;
            return this;
        }

        public TokenAuthenticator authenticator()
        {
            return authenticator;
        }

        public Context transportSettings(final TransportSettings transportSettings)
        {
            this.transportSettings = transportSettings;
            return this;
        }

        public TransportSettings transportSettings()
        {
            return transportSettings;
        }

        public Context errorLog(final ServerErrorLog errorLog)
        {
            this.errorLog = errorLog;
            return this;
        }

        public ServerErrorLog errorLog()
        {
            return errorLog;
        }

        /**
         * @param maxSessions how many sessions may be open at once; each holds a thread and stream buffers.
         * @return this.
         */
        public Context maxSessions(final int maxSessions)
        {
            this.maxSessions = maxSessions;
            return this;
        }

        public int maxSessions()
        {
            return maxSessions;
        }

        /**
         * @param encryptionRequired whether every session must have its payloads encrypted; needs a token, whose
         *                           exchange the keys come from.
         * @return this.
         */
        public Context encryptionRequired(final boolean encryptionRequired)
        {
            this.encryptionRequired = encryptionRequired;
            return this;
        }

        public boolean encryptionRequired()
        {
            return encryptionRequired;
        }

        /**
         * @param burst     control requests one source may send at once.
         * @param perSecond control requests one source may send each second after a burst.
         * @return this.
         */
        public Context controlRateLimit(final int burst, final int perSecond)
        {
            this.controlBurst = burst;
            this.controlRequestsPerSecond = perSecond;
            return this;
        }

        public int controlBurst()
        {
            return controlBurst;
        }

        public int controlRequestsPerSecond()
        {
            return controlRequestsPerSecond;
        }

        /**
         * @param capBytes    host memory all tenants together may make the server hold (staged and loaded module
         *                    images); 0 for half the JVM's maximum heap.
         * @param tenantBytes host memory one tenant may make it hold; 0 for a quarter of the cap, between 64 MiB
         *                    and 1 GiB.
         * @return this.
         */
        public Context hostMemory(final long capBytes, final long tenantBytes)
        {
            this.hostMemoryCapBytes = capBytes;
            this.tenantHostMemoryBytes = tenantBytes;
            return this;
        }

        /**
         * @return the budget tenants' host memory is counted against, made once from the configured bytes.
         */
        public HostMemoryBudget hostMemoryBudget()
        {
            if (hostMemoryBudget == null)
            {
                final long capBytes = hostMemoryCapBytes > 0 ? hostMemoryCapBytes : HostMemoryBudget.defaultCapBytes();
                hostMemoryBudget = new HostMemoryBudget(capBytes,
                    tenantHostMemoryBytes > 0 ? tenantHostMemoryBytes : HostMemoryBudget.defaultTenantBytes(capBytes));
            }
            return hostMemoryBudget;
        }

        /**
         * @param hostname the name list_gpus reports for this server (clients filter by it: {@code --filter
         *                 server.hostname=gpu-host}); by default the host's own name.
         * @return this.
         */
        public Context hostname(final String hostname)
        {
            this.hostname = hostname;
            return this;
        }

        public String hostname()
        {
            return hostname;
        }

        /**
         * Validate, default the Aeron directory to the one local clients derive from the port, and the host name to
         * the host's own.
         *
         * @return this.
         */
        public Context conclude()
        {
            if (backend == null)
            {
                throw new IllegalStateException("no GPU backend configured");
            }
            if (transportSettings.aeronDirectoryName() == null)
            {
                transportSettings.aeronDirectoryName(serverAeronDirectory(endpoint.port()));
            }
            if (!transportSettings.hasPeerTimeout())
            {
                transportSettings.peerTimeoutNs(TimeUnit.MILLISECONDS.toNanos(CLIENT_TIMEOUT_MS_DEFAULT));
            }
            transportSettings.conclude();
            Protocol.responsePort(endpoint.port());
            if (encryptionRequired && !authenticator.required())
            {
                throw new IllegalArgumentException("encryption needs a token: its keys come from the token's key " +
                    "exchange (give --token-file)");
            }
            if (maxSessions < 1)
            {
                throw new IllegalArgumentException("max sessions must be at least 1: " + maxSessions);
            }
            if (controlBurst < 1 || controlRequestsPerSecond < 1)
            {
                throw new IllegalArgumentException("the control rate limit must allow at least 1 request and 1 a " +
                    "second: " + controlBurst + " burst, " + controlRequestsPerSecond + "/s");
            }
            hostMemoryBudget();
            if (hostname == null)
            {
                hostname = localHostname();
            }
            return this;
        }

        private static String localHostname()
        {
            try
            {
                return InetAddress.getLocalHost().getHostName();
            }
            catch (final IOException ex)
            {
                return ""; // Unknown: a filter on the host name then matches nothing here, and says what each has.
            }
        }
    }

    /**
     * @param port the server's UDP port.
     * @return the Aeron directory of the server on this host listening on that port; local clients find
     * it here to use IPC.
     */
    public static String serverAeronDirectory(final int port)
    {
        return TransportSettings.defaultAeronDirectory("server-" + port);
    }

    /** How long sessions get to free what they hold when the server stops or replaces its transport. */
    private static final long CLOSE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);

    private final Context context;
    private final SessionRegistry registry;
    private final Object lifecycleLock = new Object();
    private ServerTransport transport;
    private boolean closed;
    private volatile String failure;

    private GpuServer(final Context context)
    {
        this.context = context;
        registry = new SessionRegistry(context.backend().gpus());
        try
        {
            transport = new ServerTransport(context, registry, this::onTransportClosed);
        }
        catch (final DirectoryInUseException ex)
        {
            throw new IllegalStateException("a bitfusion server is already running on port " +
                context.endpoint().port() + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * Start a server.
     *
     * @param context its configuration.
     * @return the running server.
     */
    public static GpuServer launch(final Context context)
    {
        return new GpuServer(context.conclude());
    }

    public Context context()
    {
        return context;
    }

    /**
     * @return bytes all tenants hold on all GPUs: what a killed client's memory must return to.
     */
    public long allocatedBytes()
    {
        return registry.allocatedBytes();
    }

    /**
     * @return a one-line description for start-up messages.
     */
    public String describe()
    {
        final List<GpuDescriptor> gpus = context.backend().gpus();
        return "bitfusion server listening on " + context.endpoint() + " (udp; replies from port " +
            Protocol.responsePort(context.endpoint().port()) + ") and " +
            context.transportSettings().aeronDirectoryName() + " (ipc); backend " + context.backend().kind() + ": " +
            gpus.size() + " x " + gpus.get(0).name() + ", " + (gpus.get(0).totalBytes() >> 20) + " MiB each" +
            (context.authenticator().required() ? "; token required" : "") +
            (context.encryptionRequired() ? "; encryption required" : "");
    }

    /**
     * @return why the server can serve no one any more (its transport closed under it and could not be made
     * again), or null while it can; whoever runs the server should then stop it and say so, so that a supervisor
     * restarts it.
     */
    public String failure()
    {
        return failure;
    }

    /**
     * A pause longer than the liveness timeout (a long garbage collection, SIGSTOP, a starved host) closed the
     * server's Aeron client: every session's streams are gone with it, and no request can arrive. Rather than
     * exit, the server ends those sessions, freeing what they held, and starts its transport again; this runs on a
     * thread of its own, as the control thread that noticed is one of the things replaced.
     */
    private void onTransportClosed(final String why)
    {
        final Thread recovery = new Thread(() -> recoverTransport(why), "bitfusion-transport-recovery");
        recovery.setDaemon(true);
        recovery.start();
    }

    private void recoverTransport(final String why)
    {
        synchronized (lifecycleLock)
        {
            if (closed)
            {
                return;
            }
            context.errorLog().record("the server's transport closed under it (" + why +
                "): ending its sessions and starting it again");
            registry.closeAll(CLOSE_TIMEOUT_NS);
            transport.close();
            try
            {
                transport = new ServerTransport(context, registry, this::onTransportClosed);
                context.errorLog().info("the server's transport is up again: serving on " + context.endpoint());
            }
            catch (final RuntimeException ex)
            {
                transport = null;
                failure = "its transport closed (" + why + ") and could not be started again: " + ex.getMessage();
                context.errorLog().record("the server cannot serve any more: " + failure);
            }
        }
    }

    public void close()
    {
        synchronized (lifecycleLock)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            if (transport != null)
            {
                transport.stopControl();
            }
            registry.closeAll(CLOSE_TIMEOUT_NS);
            CloseHelper.quietClose(transport);
            CloseHelper.close(context.backend());
        }
    }
}
