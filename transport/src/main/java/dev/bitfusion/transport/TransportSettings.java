package dev.bitfusion.transport;

import java.io.File;
import java.util.concurrent.TimeUnit;

/**
 * How a process sets up Aeron: where its media driver lives, its threading profile, and the liveness
 * timeouts that decide how fast a dead peer is noticed. Values come from system properties with the
 * defaults below, and can be overridden in code before {@link #conclude()}.
 * <p>
 * Thread safety: configure on one thread, then treat as immutable.
 */
public final class TransportSettings
{
    /** "shared" (one driver thread, backoff: suits 2 cores) or "low-latency" (dedicated, busy spin). */
    public static final String PROFILE_PROP_NAME = "bitfusion.transport.profile";
    public static final String PROFILE_DEFAULT = "shared";

    /**
     * How long a silent peer is considered alive; each side notices a dead peer within about this. It is also
     * the longest pause (a garbage collection, an overloaded host) a process's Aeron client survives: a longer one
     * closes it for good (a server then starts its transport again). 2 s proved too short for a server loading
     * PyTorch's libraries on 2 busy cores.
     */
    public static final String LIVENESS_TIMEOUT_PROP_NAME = "bitfusion.transport.liveness.timeout.ms";
    public static final long LIVENESS_TIMEOUT_MS_DEFAULT = 5000;

    /**
     * How long a peer's streams may stay silent (no data, no heartbeat, no status message) before the media
     * driver drops them: how soon a killed peer is noticed. Unset, it is the liveness timeout; a server sets it
     * shorter, so a dead client's slice is freed within seconds, while a live peer's driver beats every 100 ms.
     */
    public static final String PEER_TIMEOUT_PROP_NAME = "bitfusion.transport.peer.timeout.ms";

    /** UDP MTU. Loopback endpoints use the largest datagram Aeron allows unless this is set. */
    public static final String UDP_MTU_PROP_NAME = "bitfusion.transport.udp.mtu";
    public static final int UDP_MTU_DEFAULT = 1408;
    public static final int LOOPBACK_MTU = 65504;

    /** Term length of session streams: bounds a message and how much can be in flight. */
    public static final String TERM_LENGTH_PROP_NAME = "bitfusion.transport.term.length";
    public static final int TERM_LENGTH_DEFAULT = 16 * 1024 * 1024;

    /** Socket buffers and flow-control window for UDP: big enough to keep a bulk copy streaming. */
    public static final int SOCKET_BUFFER_LENGTH = 4 * 1024 * 1024;
    public static final int INITIAL_WINDOW_LENGTH = 4 * 1024 * 1024;

    private String aeronDirectoryName;
    private boolean lowLatency = "low-latency".equals(System.getProperty(PROFILE_PROP_NAME, PROFILE_DEFAULT));
    private long livenessTimeoutNs = TimeUnit.MILLISECONDS.toNanos(
        Long.getLong(LIVENESS_TIMEOUT_PROP_NAME, LIVENESS_TIMEOUT_MS_DEFAULT));
    private long peerTimeoutNs = TimeUnit.MILLISECONDS.toNanos(Long.getLong(PEER_TIMEOUT_PROP_NAME, 0));
    private int udpMtu = Integer.getInteger(UDP_MTU_PROP_NAME, 0);
    private int termLength = Integer.getInteger(TERM_LENGTH_PROP_NAME, TERM_LENGTH_DEFAULT);

    /**
     * @param aeronDirectoryName where the media driver keeps its files; clients that share it may use IPC.
     * @return this for a fluent API.
     */
    public TransportSettings aeronDirectoryName(final String aeronDirectoryName)
    {
        this.aeronDirectoryName = aeronDirectoryName;
        return this;
    }

    public String aeronDirectoryName()
    {
        return aeronDirectoryName;
    }

    /**
     * @param lowLatency true for dedicated driver threads that busy spin (needs spare cores).
     * @return this for a fluent API.
     */
    public TransportSettings lowLatency(final boolean lowLatency)
    {
        this.lowLatency = lowLatency;
        return this;
    }

    public boolean lowLatency()
    {
        return lowLatency;
    }

    /**
     * @param livenessTimeoutNs how long a silent peer counts as alive.
     * @return this for a fluent API.
     */
    public TransportSettings livenessTimeoutNs(final long livenessTimeoutNs)
    {
        this.livenessTimeoutNs = livenessTimeoutNs;
        return this;
    }

    public long livenessTimeoutNs()
    {
        return livenessTimeoutNs;
    }

    /**
     * @param peerTimeoutNs how long a peer's streams may stay silent; 0 for the liveness timeout.
     * @return this for a fluent API.
     */
    public TransportSettings peerTimeoutNs(final long peerTimeoutNs)
    {
        this.peerTimeoutNs = peerTimeoutNs;
        return this;
    }

    /**
     * @return how long a peer's streams may stay silent, once concluded.
     */
    public long peerTimeoutNs()
    {
        return peerTimeoutNs;
    }

    /**
     * @return true when the peer timeout was set, by property or in code (or by {@link #conclude()}), rather than
     * left to default to the liveness one.
     */
    public boolean hasPeerTimeout()
    {
        return peerTimeoutNs > 0;
    }

    public TransportSettings termLength(final int termLength)
    {
        this.termLength = termLength;
        return this;
    }

    public int termLength()
    {
        return termLength;
    }

    /**
     * @param host the host a UDP channel connects to or binds.
     * @return the MTU to use on it: the configured one, else the largest for loopback, else Aeron's default.
     */
    public int udpMtuFor(final String host)
    {
        if (udpMtu > 0)
        {
            return udpMtu;
        }
        return Endpoint.isLoopback(host) ? LOOPBACK_MTU : UDP_MTU_DEFAULT;
    }

    /**
     * Validate and fill in what was left unset.
     *
     * @return this for a fluent API.
     */
    public TransportSettings conclude()
    {
        if (aeronDirectoryName == null)
        {
            throw new IllegalStateException("aeronDirectoryName must be set");
        }
        if (livenessTimeoutNs < TimeUnit.MILLISECONDS.toNanos(100))
        {
            throw new IllegalArgumentException("liveness timeout below 100 ms: " + livenessTimeoutNs + " ns");
        }
        if (peerTimeoutNs <= 0 || peerTimeoutNs > livenessTimeoutNs)
        {
            peerTimeoutNs = livenessTimeoutNs;
        }
        if (peerTimeoutNs < TimeUnit.MILLISECONDS.toNanos(100))
        {
            throw new IllegalArgumentException("peer timeout below 100 ms: " + peerTimeoutNs + " ns");
        }
        if (Integer.bitCount(termLength) != 1 || termLength < 64 * 1024)
        {
            throw new IllegalArgumentException("term length must be a power of two >= 64 KiB: " + termLength);
        }
        return this;
    }

    /**
     * @param name a distinguishing part, e.g. "server-56001".
     * @return a directory name for a media driver under the shared-memory file system when there is one.
     */
    public static String defaultAeronDirectory(final String name)
    {
        final File shm = new File("/dev/shm");
        final String base = shm.isDirectory() ? shm.getPath() : System.getProperty("java.io.tmpdir");
        return base + File.separator + "bitfusion-" + System.getProperty("user.name", "user") + "-" + name;
    }
}
