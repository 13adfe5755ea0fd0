package dev.bitfusion.server;

import dev.bitfusion.server.backend.GpuBackend;
import dev.bitfusion.server.backend.GpuDescriptor;
import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.TransportSettings;
import io.aeron.Subscription;
import org.agrona.CloseHelper;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The GPU server: owns the media driver, the control adapter, the sessions and the backend.
 * <p>
 * It listens on UDP at its endpoint and, for clients on the same host that share its Aeron directory,
 * on IPC. Each session runs on its own thread.
 * <p>
 * Thread safety: start and close on one thread; the session table is concurrent.
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

        private Endpoint endpoint = new Endpoint("0.0.0.0", Protocol.DEFAULT_PORT);
        private GpuBackend backend;
        private TokenAuthenticator authenticator = TokenAuthenticator.acceptAll();
        private TransportSettings transportSettings = new TransportSettings();
        private ServerErrorLog errorLog = new ServerErrorLog(System.err);
        private int maxSessions = MAX_SESSIONS_DEFAULT;

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
            if (maxSessions < 1)
            {
                throw new IllegalArgumentException("max sessions must be at least 1: " + maxSessions);
            }
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

    private final Context context;
    private final AeronTransport transport;
    private final List<SliceLedger> ledgers = new ArrayList<>();
    private final Map<Long, SessionAgent> sessions = new ConcurrentHashMap<>();
    private final AtomicLong nextSessionId = new AtomicLong(1);
    private final AtomicInteger nextStreamId = new AtomicInteger(Protocol.FIRST_SESSION_STREAM_ID);
    private final ControlAdapter controlAdapter;
    private final Thread controlThread;
    private final String udpChannel;
    private final String ipcChannel;
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
        for (final GpuDescriptor gpu : context.backend().gpus())
        {
            ledgers.add(new SliceLedger(gpu.totalBytes()));
        }

        transport = AeronTransport.launchEmbedded(context.transportSettings());
        try
        {
            udpChannel = ChannelUris.udp(context.endpoint(), context.transportSettings());
            ipcChannel = ChannelUris.ipc(context.transportSettings());
            final Subscription udpControl = transport.aeron().addSubscription(udpChannel, Protocol.CONTROL_STREAM_ID);
            final Subscription ipcControl = transport.aeron().addSubscription(ipcChannel, Protocol.CONTROL_STREAM_ID);
            controlAdapter = new ControlAdapter(this, udpControl, ipcControl);
        }
        catch (final RuntimeException ex)
        {
            transport.close();
            throw ex;
        }
        controlThread = new Thread(controlAdapter, "bitfusion-control");
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

    AeronTransport transport()
    {
        return transport;
    }

    String udpChannel()
    {
        return udpChannel;
    }

    String ipcChannel()
    {
        return ipcChannel;
    }

    List<SliceLedger> ledgers()
    {
        return ledgers;
    }

    long nextSessionId()
    {
        return nextSessionId.getAndIncrement();
    }

    int nextStreamId()
    {
        return nextStreamId.getAndIncrement();
    }

    void register(final SessionAgent session)
    {
        sessions.put(session.sessionId(), session);
    }

    void unregister(final SessionAgent session)
    {
        sessions.remove(session.sessionId());
        ledgers.get(session.gpuIndex()).release(session.sessionId());
    }

    /**
     * @return the sessions open now.
     */
    public Collection<SessionAgent> sessions()
    {
        return sessions.values();
    }

    /**
     * @return bytes all tenants hold on all GPUs: what a killed client's memory must return to.
     */
    public long allocatedBytes()
    {
        long total = 0;
        for (final SessionAgent session : sessions.values())
        {
            total += session.allocatedBytes();
        }
        return total;
    }

    /**
     * @return a one-line description for start-up messages.
     */
    public String describe()
    {
        final List<GpuDescriptor> gpus = context.backend().gpus();
        return "bitfusion server listening on " + context.endpoint() + " (udp) and " +
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

    void fail(final String why)
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
        controlAdapter.stop();
        try
        {
            controlThread.join(5000);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        for (final SessionAgent session : sessions.values())
        {
            session.requestClose();
        }
        final long deadlineNs = System.nanoTime() + 5_000_000_000L;
        while (!sessions.isEmpty() && System.nanoTime() < deadlineNs)
        {
            Thread.onSpinWait();
            Thread.yield();
        }
        CloseHelper.closeAll(transport, context.backend());
    }
}
