package dev.bitfusion.transport;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.exceptions.DriverTimeoutException;
import org.agrona.CloseHelper;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.NoOpIdleStrategy;

import java.io.File;
import java.util.concurrent.TimeUnit;

/**
 * An Aeron client with, when this process owns one, its embedded media driver.
 * <p>
 * The server always embeds a driver; a client embeds one for UDP or attaches to the server's driver
 * for IPC when both share a host. The shared profile runs the driver's three agents on one thread with
 * backoff, which leaves the cores of a 2-core machine to the application; the low-latency profile gives
 * them dedicated busy-spinning threads.
 * <p>
 * Its threads are daemons: a transport never keeps a process alive (a JVM application whose {@code main}
 * returns must exit); whoever needs the process to stay up (the server) waits on its own.
 * <p>
 * Thread safety: the {@link Aeron} client is thread safe; create and close on one thread.
 */
public final class AeronTransport implements AutoCloseable
{
    /** A driver whose heartbeat is older than this is not worth connecting to over IPC. */
    private static final long DRIVER_ACTIVE_TIMEOUT_MS = 1000;

    private final OwnerLock directoryLock;
    private final MediaDriver driver;
    private final Aeron aeron;
    private final TransportSettings settings;

    private AeronTransport(
        final OwnerLock directoryLock, final MediaDriver driver, final Aeron aeron, final TransportSettings settings)
    {
        this.directoryLock = directoryLock;
        this.driver = driver;
        this.aeron = aeron;
        this.settings = settings;
    }

    /**
     * Start a media driver in this process and connect to it.
     *
     * @param settings concluded settings; the directory is (re)created and deleted on close, and this process
     *                 holds its {@link OwnerLock} meanwhile.
     * @return the transport.
     * @throws DirectoryInUseException when a live process owns the directory.
     */
    public static AeronTransport launchEmbedded(final TransportSettings settings)
    {
        settings.conclude();
        final OwnerLock directoryLock =
            AeronDirectoryJanitor.takeOwnership(new File(settings.aeronDirectoryName()), AeronTransport::say);
        try
        {
            AeronDirectoryJanitor.sweep(AeronTransport::say);
            return launchEmbedded(settings, directoryLock);
        }
        catch (final RuntimeException ex)
        {
            directoryLock.close();
            throw ex;
        }
    }

    private static AeronTransport launchEmbedded(final TransportSettings settings, final OwnerLock directoryLock)
    {
        final long livenessNs = settings.livenessTimeoutNs();
        final MediaDriver.Context driverContext = new MediaDriver.Context()
            .aeronDirectoryName(settings.aeronDirectoryName())
            .dirDeleteOnStart(true)
            .dirDeleteOnShutdown(true)
            .clientLivenessTimeoutNs(livenessNs)
            .imageLivenessTimeoutNs(settings.peerTimeoutNs())
            .publicationUnblockTimeoutNs(livenessNs + TimeUnit.SECONDS.toNanos(1))
            .publicationConnectionTimeoutNs(settings.peerTimeoutNs())
            .publicationLingerTimeoutNs(TimeUnit.MILLISECONDS.toNanos(500))
            .timerIntervalNs(TimeUnit.MILLISECONDS.toNanos(100))
            .socketRcvbufLength(TransportSettings.SOCKET_BUFFER_LENGTH)
            .socketSndbufLength(TransportSettings.SOCKET_BUFFER_LENGTH)
            .initialWindowLength(TransportSettings.INITIAL_WINDOW_LENGTH)
            .warnIfDirectoryExists(false)
            .conductorThreadFactory(AeronTransport::daemon)
            .senderThreadFactory(AeronTransport::daemon)
            .receiverThreadFactory(AeronTransport::daemon)
            .sharedNetworkThreadFactory(AeronTransport::daemon)
            .sharedThreadFactory(AeronTransport::daemon);

        if (settings.lowLatency())
        {
            driverContext
                .threadingMode(ThreadingMode.DEDICATED)
                .conductorIdleStrategy(new BusySpinIdleStrategy())
                .senderIdleStrategy(new NoOpIdleStrategy())
                .receiverIdleStrategy(new NoOpIdleStrategy());
        }
        else
        {
            driverContext
                .threadingMode(ThreadingMode.SHARED)
                .sharedIdleStrategy(new BackoffIdleStrategy(
                    100, 10, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MICROSECONDS.toNanos(100)));
        }

        final MediaDriver driver = MediaDriver.launch(driverContext);
        try
        {
            return new AeronTransport(directoryLock, driver, connectClient(settings), settings);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietClose(driver);
            throw ex;
        }
    }

    /**
     * Connect to a media driver another process runs, as a client on the server's host does for IPC.
     *
     * @param settings concluded settings naming that driver's directory.
     * @return the transport, owning no driver.
     */
    public static AeronTransport connect(final TransportSettings settings)
    {
        settings.conclude();
        return new AeronTransport(null, null, connectClient(settings), settings);
    }

    /**
     * @param aeronDirectoryName a driver directory.
     * @return true when a live media driver serves it, so IPC with its users is possible; answered at once,
     * whatever state the directory is in.
     */
    public static boolean isDriverActive(final String aeronDirectoryName)
    {
        return AeronDirectoryJanitor.isServed(new File(aeronDirectoryName), DRIVER_ACTIVE_TIMEOUT_MS);
    }

    /**
     * @return true once the client has closed, e.g. after its media driver died.
     */
    public boolean isClosed()
    {
        return aeron.isClosed();
    }

    public Aeron aeron()
    {
        return aeron;
    }

    public TransportSettings settings()
    {
        return settings;
    }

    /**
     * @return true when this process runs the media driver (and so other local processes may attach).
     */
    public boolean ownsDriver()
    {
        return driver != null;
    }

    public void close()
    {
        try
        {
            CloseHelper.closeAll(aeron, driver);
        }
        finally
        {
            if (directoryLock != null)
            {
                directoryLock.close();
            }
        }
    }

    private static void say(final String line)
    {
        System.err.println("bitfusion: " + line);
    }

    /**
     * Aeron's default handler exits the process when its media driver vanishes; a CUDA program must
     * instead see CUDA errors, so the users of this transport notice the closed client and fail calls.
     */
    private static void reportError(final Throwable error)
    {
        if (error instanceof DriverTimeoutException)
        {
            System.err.println("bitfusion: the Aeron media driver stopped answering: " + error.getMessage());
        }
        else
        {
            System.err.println("bitfusion: transport error: " + error);
        }
    }

    private static Thread daemon(final Runnable runnable)
    {
        final Thread thread = new Thread(runnable);
        thread.setDaemon(true);
        return thread;
    }

    private static Aeron connectClient(final TransportSettings settings)
    {
        return Aeron.connect(new Aeron.Context()
            .aeronDirectoryName(settings.aeronDirectoryName())
            .driverTimeoutMs(TimeUnit.NANOSECONDS.toMillis(settings.livenessTimeoutNs()))
            .keepAliveIntervalNs(settings.livenessTimeoutNs() / 4)
            .useConductorAgentInvoker(false)
            .threadFactory(AeronTransport::daemon)
            .errorHandler(AeronTransport::reportError));
    }
}
