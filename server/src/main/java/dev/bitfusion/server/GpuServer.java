package dev.bitfusion.server;

import dev.bitfusion.server.backend.GpuBackend;
import dev.bitfusion.server.backend.GpuDescriptor;
import dev.bitfusion.server.status.ServerCounters;
import dev.bitfusion.server.status.TrafficCounters;
import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.TransportSettings;
import io.aeron.Aeron;
import io.aeron.Counter;
import io.aeron.Subscription;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.CompositeAgent;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The GPU server: owns the media driver, the control agents, the sessions and the backend.
 * <p>
 * It listens on UDP at its endpoint and, for clients on the same host that share its Aeron directory,
 * on IPC. The control stream's {@link ControlAdapter} and {@link ControlReplySender} share one thread; each
 * session ({@link ClientSession}) runs on its own. Counters of each GPU and session live in the media driver's
 * counters file ({@link ServerCounters}).
 * <p>
 * Thread safety: start and close on one thread; the accessors from any thread.
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

        private Endpoint endpoint = new Endpoint("0.0.0.0", Protocol.DEFAULT_PORT);
        private GpuBackend backend;
        private TokenAuthenticator authenticator = TokenAuthenticator.acceptAll();
        private TransportSettings transportSettings = new TransportSettings();
        private ServerErrorLog errorLog = new ServerErrorLog(System.err);
        private int maxSessions = MAX_SESSIONS_DEFAULT;
        private int controlBurst = Integer.getInteger(CONTROL_BURST_PROP_NAME, CONTROL_BURST_DEFAULT);
        private int controlRequestsPerSecond = Integer.getInteger(CONTROL_RATE_PROP_NAME, CONTROL_RATE_DEFAULT);
        private long hostMemoryCapBytes = Long.getLong(HostMemoryBudget.CAP_PROP_NAME, 0);
        private long tenantHostMemoryBytes = Long.getLong(HostMemoryBudget.TENANT_PROP_NAME, 0);
        private HostMemoryBudget hostMemoryBudget;

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
         * Validate, and default the Aeron directory to the one local clients derive from the port.
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
            transportSettings.conclude();
            Protocol.responsePort(endpoint.port());
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
            return this;
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

    /** How long sessions get to free what they hold when the server stops. */
    private static final long CLOSE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);
    /** The shortest time a control reply waits for its client to connect. */
    private static final long MIN_REPLY_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(2);

    private final Context context;
    private final AeronTransport transport;
    private final SessionRegistry registry;
    private final List<TrafficCounters> gpuCounters = new ArrayList<>();
    private final Counter repliesDropped;
    private final AgentRunner controlRunner;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile String failure;

    private GpuServer(final Context context)
    {
        this.context = context;
        if (AeronTransport.isDriverActive(context.transportSettings().aeronDirectoryName()))
        {
            throw new IllegalStateException("a bitfusion server is already running on port " +
                context.endpoint().port() + " (Aeron directory " + context.transportSettings().aeronDirectoryName() + ")");
        }
        registry = new SessionRegistry(context.backend().gpus());
        transport = AeronTransport.launchEmbedded(context.transportSettings());
        try
        {
            final Aeron aeron = transport.aeron();
            final String udpChannel = ChannelUris.udp(context.endpoint(), context.transportSettings());
            final String ipcChannel = ChannelUris.ipc(context.transportSettings());
            for (final GpuDescriptor gpu : context.backend().gpus())
            {
                gpuCounters.add(TrafficCounters.forGpu(aeron, gpu.index()));
            }
            repliesDropped = ServerCounters.controlRepliesDropped(aeron);
            final ControlReplySender replySender = new ControlReplySender(aeron, context.errorLog(), repliesDropped,
                Math.max(context.transportSettings().livenessTimeoutNs(), MIN_REPLY_TIMEOUT_NS));
            final ControlReplyProxy replyProxy = new ControlReplyProxy(replySender);
            final SessionAdmission admission =
                new SessionAdmission(context, aeron, registry, gpuCounters, replyProxy, udpChannel, ipcChannel);
            final Subscription udpControl = aeron.addSubscription(udpChannel, Protocol.CONTROL_STREAM_ID);
            final Subscription ipcControl = aeron.addSubscription(ipcChannel, Protocol.CONTROL_STREAM_ID);
            final ControlAdapter controlAdapter = new ControlAdapter(context, aeron, udpControl, ipcControl, admission,
                replyProxy, registry, replySender::send, this::fail);
            controlRunner = new AgentRunner(
                new BackoffIdleStrategy(10, 10, TimeUnit.MICROSECONDS.toNanos(10), TimeUnit.MILLISECONDS.toNanos(1)),
                context.errorLog(), null, new CompositeAgent(controlAdapter, replySender));
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(gpuCounters);
            transport.close();
            throw ex;
        }
        final Thread controlThread = new Thread(controlRunner, "bitfusion-control");
        controlThread.start();
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
            (context.authenticator().required() ? "; token required" : "");
    }

    /**
     * @return why the server can serve no one any more (its transport closed under it), or null while it can;
     * whoever runs the server should then stop it and say so, so that a supervisor restarts it.
     */
    public String failure()
    {
        return failure;
    }

    private void fail(final String why)
    {
        if (failure == null)
        {
            failure = why;
        }
    }

    public void close()
    {
        if (!closed.compareAndSet(false, true))
        {
            return;
        }
        controlRunner.close();
        registry.closeAll(CLOSE_TIMEOUT_NS);
        CloseHelper.quietCloseAll(gpuCounters);
        CloseHelper.quietClose(repliesDropped);
        CloseHelper.closeAll(transport, context.backend());
    }
}
