package dev.bitfusion.agent;

import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.auth.Credentials;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a client asks for: which server, how many GPUs, how big a slice of each, and how to reach it.
 * <p>
 * Thread safety: configure on one thread, then treat as immutable.
 */
public final class ClientSettings
{
    /**
     * Comma-separated HOST:PORT list, as {@code bitfusion run} hands it to the program; the first serves every device
     * {@link #DEVICE_SERVERS_ENV_NAME} does not place elsewhere.
     */
    public static final String SERVERS_ENV_NAME = "BITFUSION_SERVERS";
    /**
     * Comma-separated HOST:PORT, one for each device ordinal 0, 1, ..., in step with {@link #GPU_INDICES_ENV_NAME}: the
     * server each device is on when {@code bitfusion run} placed the program across servers; unset: every device is on
     * the first of {@link #SERVERS_ENV_NAME}.
     */
    public static final String DEVICE_SERVERS_ENV_NAME = "BITFUSION_DEVICE_SERVERS";
    /** How many GPUs (-n). */
    public static final String GPU_COUNT_ENV_NAME = "BITFUSION_GPU_COUNT";
    /**
     * Comma-separated indices of the GPUs that serve device ordinals 0, 1, ..., each on its device's server, as
     * {@code bitfusion run} placed them; unset: GPUs 0 to n-1.
     */
    public static final String GPU_INDICES_ENV_NAME = "BITFUSION_GPU_INDICES";
    /** Slice as a fraction of each GPU's memory (-p). */
    public static final String MEMORY_FRACTION_ENV_NAME = "BITFUSION_MEMORY_FRACTION";
    /** Slice in MiB (-m). */
    public static final String MEMORY_MB_ENV_NAME = "BITFUSION_MEMORY_MB";
    /**
     * The reservations {@code bitfusion run} (or {@code bitfusion client}) holds for the program: comma-separated
     * {@code ID:KEY} ({@link Reservation}), one per device ordinal, parallel to {@link #GPU_INDICES_ENV_NAME}. Every
     * process of the job attaches its session to them and shares their slices; unset: each process takes a slice.
     */
    public static final String RESERVATIONS_ENV_NAME = "BITFUSION_RESERVATIONS";
    /** Tag added to the client id of the program's sessions (list_gpus), so {@code bitfusion run} can find them. */
    public static final String CLIENT_ID_ENV_NAME = "BITFUSION_CLIENT_ID";

    /** Environment variable holding the token a server started with --token-file expects. */
    public static final String TOKEN_ENV_NAME = "BITFUSION_TOKEN";
    /**
     * Environment variable holding the administrator's token of servers started with --admin-token-file: it shows
     * who holds each slice in list_gpus; read from ~/.bitfusion/admin-token when unset.
     */
    public static final String ADMIN_TOKEN_ENV_NAME = "BITFUSION_ADMIN_TOKEN";

    /**
     * Environment variable asking for encrypted sessions ("1" or "true"): request and reply payloads are then
     * encrypted with keys from the token's key exchange, so it needs a token. Overrides {@link #ENCRYPT_PROP_NAME}.
     */
    public static final String ENCRYPT_ENV_NAME = "BITFUSION_ENCRYPT";
    /** System property asking for encrypted sessions, for programs that embed the client in their own JVM. */
    public static final String ENCRYPT_PROP_NAME = "bitfusion.client.encrypt";

    /** Transport choice: "auto" (IPC when the server shares this host, else UDP), "udp" or "ipc". */
    public static final String TRANSPORT_PROP_NAME = "bitfusion.client.transport";
    public static final String TRANSPORT_DEFAULT = "auto";

    /**
     * How long to wait for a server to answer a session open and for the session's streams to connect. On a loaded
     * 2-core host (twenty programs starting at once) a healthy open took over 5 s; a start given up then is lost.
     */
    public static final long OPEN_TIMEOUT_NS_DEFAULT = TimeUnit.SECONDS.toNanos(10);

    private final List<Endpoint> servers = new ArrayList<>();
    private int gpuCount = 1;
    private int[] gpuIndices;
    private Endpoint[] deviceServers;
    private Reservation[] reservations;
    private boolean holdOnly;
    private long waitTicket;
    private long waitSinceMs;
    private double memoryFraction;
    private long memoryMb;
    private String token;
    private String transport = System.getProperty(TRANSPORT_PROP_NAME, TRANSPORT_DEFAULT);
    private String clientId = defaultClientId();
    private long openTimeoutNs = OPEN_TIMEOUT_NS_DEFAULT;
    private boolean encrypt = Boolean.getBoolean(ENCRYPT_PROP_NAME);

    public ClientSettings server(final Endpoint endpoint)
    {
        servers.add(endpoint);
        return this;
    }

    public List<Endpoint> servers()
    {
        return servers;
    }

    /**
     * @param gpuCount how many GPUs (one session each).
     * @return this.
     */
    public ClientSettings gpuCount(final int gpuCount)
    {
        this.gpuCount = gpuCount;
        return this;
    }

    public int gpuCount()
    {
        return gpuCount;
    }

    /**
     * @param gpuIndices the server's GPU for each device ordinal, one per GPU; null: GPUs 0 to n-1.
     * @return this.
     */
    public ClientSettings gpuIndices(final int[] gpuIndices)
    {
        this.gpuIndices = gpuIndices == null ? null : gpuIndices.clone();
        return this;
    }

    /**
     * @param device a device ordinal of the program.
     * @return the index of the server's GPU that serves it.
     */
    public int gpuIndex(final int device)
    {
        return gpuIndices == null ? device : gpuIndices[device];
    }

    /**
     * @param deviceServers the server of each device ordinal, one per GPU; null: every device on the first server.
     * @return this.
     */
    public ClientSettings deviceServers(final Endpoint[] deviceServers)
    {
        this.deviceServers = deviceServers == null ? null : deviceServers.clone();
        return this;
    }

    /**
     * @param device a device ordinal of the program.
     * @return the server whose GPU {@link #gpuIndex(int)} serves it.
     */
    public Endpoint serverOf(final int device)
    {
        return deviceServers == null ? servers.get(0) : deviceServers[device];
    }

    /**
     * @param reservations the reservation each device ordinal's session attaches to, one per GPU; null: the sessions
     *                     take slices of their own.
     * @return this.
     */
    public ClientSettings reservations(final Reservation[] reservations)
    {
        this.reservations = reservations == null ? null : reservations.clone();
        return this;
    }

    /**
     * @param device a device ordinal of the program.
     * @return the reservation its session attaches to, or null when it takes a slice of its own.
     */
    public Reservation reservation(final int device)
    {
        return reservations == null ? null : reservations[device];
    }

    /**
     * @param holdOnly true for a holder's sessions: they take the slices and hold them for a job, with no device
     *                 context and no calls of their own.
     * @return this.
     */
    public ClientSettings holdOnly(final boolean holdOnly)
    {
        this.holdOnly = holdOnly;
        return this;
    }

    public boolean holdOnly()
    {
        return holdOnly;
    }

    /**
     * @param waitTicket  the ticket of a client waiting in line for room (see PoolQuery.WaitTicket), or 0.
     * @param waitSinceMs when it began to wait.
     * @return this.
     */
    public ClientSettings waitTicket(final long waitTicket, final long waitSinceMs)
    {
        this.waitTicket = waitTicket;
        this.waitSinceMs = waitSinceMs;
        return this;
    }

    public long waitTicket()
    {
        return waitTicket;
    }

    public long waitSinceMs()
    {
        return waitSinceMs;
    }

    /**
     * @param memoryFraction the fraction of each GPU's memory wanted, in (0, 1]; 0 when MB are given.
     * @return this.
     */
    public ClientSettings memoryFraction(final double memoryFraction)
    {
        this.memoryFraction = memoryFraction;
        return this;
    }

    public double memoryFraction()
    {
        return memoryFraction;
    }

    /**
     * @param memoryMb the MiB of each GPU's memory wanted; 0 when a fraction is given.
     * @return this.
     */
    public ClientSettings memoryMb(final long memoryMb)
    {
        this.memoryMb = memoryMb;
        return this;
    }

    public long memoryMb()
    {
        return memoryMb;
    }

    public ClientSettings token(final String token)
    {
        this.token = token;
        return this;
    }

    /**
     * @return the token: as set, else from BITFUSION_TOKEN, else from ~/.bitfusion/token, else empty.
     */
    public String token()
    {
        if (token == null)
        {
            token = discoverToken();
        }
        return token;
    }

    public ClientSettings transport(final String transport)
    {
        this.transport = transport;
        return this;
    }

    public String transport()
    {
        return transport;
    }

    public ClientSettings clientId(final String clientId)
    {
        this.clientId = clientId;
        return this;
    }

    public String clientId()
    {
        return clientId;
    }

    public ClientSettings openTimeoutNs(final long openTimeoutNs)
    {
        this.openTimeoutNs = openTimeoutNs;
        return this;
    }

    public long openTimeoutNs()
    {
        return openTimeoutNs;
    }

    /**
     * @param encrypt whether sessions encrypt their payloads; needs a token.
     * @return this.
     */
    public ClientSettings encrypt(final boolean encrypt)
    {
        this.encrypt = encrypt;
        return this;
    }

    public boolean encrypt()
    {
        return encrypt;
    }

    /**
     * @param environment variables as {@code bitfusion run} sets them for the program it starts.
     * @return settings for the slice they describe.
     * @throws IllegalArgumentException when no server is named (the program was not started by bitfusion run).
     */
    public static ClientSettings fromEnvironment(final Map<String, String> environment)
    {
        final String servers = environment.get(SERVERS_ENV_NAME);
        if (servers == null || servers.isBlank())
        {
            throw new IllegalArgumentException(SERVERS_ENV_NAME + " is not set: start the program with `bitfusion run`");
        }
        final ClientSettings settings = new ClientSettings()
            .server(Endpoint.parse(servers.split(",")[0].strip()))
            .gpuCount(Integer.parseInt(environment.getOrDefault(GPU_COUNT_ENV_NAME, "1").strip()))
            .gpuIndices(gpuIndicesFrom(environment))
            .deviceServers(deviceServersFrom(environment))
            .reservations(reservationsFrom(environment));
        final String tag = environment.get(CLIENT_ID_ENV_NAME);
        if (tag != null && !tag.isBlank())
        {
            settings.clientId(settings.clientId() + " [" + tag.strip() + "]");
        }
        final String fraction = environment.get(MEMORY_FRACTION_ENV_NAME);
        final String megabytes = environment.get(MEMORY_MB_ENV_NAME);
        if (fraction != null && !fraction.isBlank())
        {
            settings.memoryFraction(Double.parseDouble(fraction.strip()));
        }
        if (megabytes != null && !megabytes.isBlank())
        {
            settings.memoryMb(Long.parseLong(megabytes.strip()));
        }
        return settings.encrypt(encryptFrom(environment, settings.encrypt())).conclude();
    }

    /**
     * @return the server's GPU for each device ordinal as {@link #GPU_INDICES_ENV_NAME} gives them, or null when unset.
     * @throws IllegalArgumentException when it is not a list of indices.
     */
    public static int[] gpuIndicesFrom(final Map<String, String> environment)
    {
        final String value = environment.get(GPU_INDICES_ENV_NAME);
        if (value == null || value.isBlank())
        {
            return null;
        }
        try
        {
            return Arrays.stream(value.split(",")).mapToInt(index -> Integer.parseInt(index.strip())).toArray();
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException(GPU_INDICES_ENV_NAME + " must be GPU indices such as 0,2, got " + value);
        }
    }

    /**
     * @return the server of each device ordinal as {@link #DEVICE_SERVERS_ENV_NAME} gives them, or null when unset.
     * @throws IllegalArgumentException when it is not a list of HOST:PORT.
     */
    public static Endpoint[] deviceServersFrom(final Map<String, String> environment)
    {
        final String value = environment.get(DEVICE_SERVERS_ENV_NAME);
        if (value == null || value.isBlank())
        {
            return null;
        }
        try
        {
            return Arrays.stream(value.split(",")).map(server -> Endpoint.parse(server.strip())).toArray(Endpoint[]::new);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(DEVICE_SERVERS_ENV_NAME + " must be one HOST:PORT for each device, " +
                "such as gpu-a:56001,gpu-b:56001, got " + value + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * @return the reservation of each device ordinal as {@link #RESERVATIONS_ENV_NAME} gives them, or null when unset.
     * @throws IllegalArgumentException when one is not a reservation.
     */
    public static Reservation[] reservationsFrom(final Map<String, String> environment)
    {
        final String value = environment.get(RESERVATIONS_ENV_NAME);
        if (value == null || value.isBlank())
        {
            return null;
        }
        try
        {
            return Arrays.stream(value.split(",")).map(Reservation::parse).toArray(Reservation[]::new);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException(RESERVATIONS_ENV_NAME + ": " + ex.getMessage());
        }
    }

    /**
     * @param reservations one per device ordinal.
     * @return them as {@link #RESERVATIONS_ENV_NAME} carries them.
     */
    public static String reservationsText(final List<Reservation> reservations)
    {
        return String.join(",", reservations.stream().map(Reservation::toString).toList());
    }

    /**
     * @param otherwise what to return when {@link #ENCRYPT_ENV_NAME} is not set.
     * @return whether the environment asks for encrypted sessions.
     */
    public static boolean encryptFrom(final Map<String, String> environment, final boolean otherwise)
    {
        final String value = environment.get(ENCRYPT_ENV_NAME);
        if (value == null || value.isBlank())
        {
            return otherwise;
        }
        return switch (value.strip().toLowerCase(Locale.ROOT))
        {
            case "1", "true", "yes" -> true;
            case "0", "false", "no" -> false;
            default -> throw new IllegalArgumentException(
                ENCRYPT_ENV_NAME + " must be 1 or 0 (true or false), got " + value);
        };
    }

    /**
     * Validate once before use.
     *
     * @return this.
     */
    public ClientSettings conclude()
    {
        if (servers.isEmpty())
        {
            throw new IllegalArgumentException("no server given: use --server_list HOST:PORT or BITFUSION_SERVERS");
        }
        if (gpuCount < 1)
        {
            throw new IllegalArgumentException("-n must be at least 1, got " + gpuCount);
        }
        if (gpuIndices != null && (gpuIndices.length != gpuCount || Arrays.stream(gpuIndices).anyMatch(index -> index < 0)))
        {
            throw new IllegalArgumentException(
                "GPU indices " + Arrays.toString(gpuIndices) + " must name one GPU for each of the " + gpuCount);
        }
        if (deviceServers != null && (deviceServers.length != gpuCount || Arrays.asList(deviceServers).contains(null)))
        {
            throw new IllegalArgumentException("device servers " + Arrays.toString(deviceServers) +
                " must name one server for each of the " + gpuCount + " GPUs (" + DEVICE_SERVERS_ENV_NAME + ")");
        }
        if (reservations != null && reservations.length != gpuCount)
        {
            throw new IllegalArgumentException(reservations.length + " reservations (" + RESERVATIONS_ENV_NAME +
                ") for " + gpuCount + " GPUs: the job's holder gives one for each");
        }
        if (memoryFraction > 0 && memoryMb > 0)
        {
            throw new IllegalArgumentException("give -p (fraction) or -m (MB), not both");
        }
        if (memoryFraction < 0 || memoryFraction > 1 || Double.isNaN(memoryFraction))
        {
            throw new IllegalArgumentException("-p must be a fraction in (0, 1], got " + memoryFraction);
        }
        if (memoryMb < 0)
        {
            throw new IllegalArgumentException("-m must be a positive number of MB, got " + memoryMb);
        }
        if (!transport.equals("auto") && !transport.equals("udp") && !transport.equals("ipc"))
        {
            throw new IllegalArgumentException("transport must be auto, udp or ipc, got " + transport);
        }
        return this;
    }

    /**
     * @return the credentials pool queries present: the administrator's token when this user has one, else the
     * token, else none.
     */
    public static Credentials discoverQueryCredentials()
    {
        final String adminToken = discoverToken(ADMIN_TOKEN_ENV_NAME, "admin-token");
        return Credentials.ofToken(adminToken.isEmpty() ? discoverToken(TOKEN_ENV_NAME, "token") : adminToken);
    }

    private static String discoverToken()
    {
        return discoverToken(TOKEN_ENV_NAME, "token");
    }

    private static String discoverToken(final String envName, final String fileName)
    {
        final String fromEnv = System.getenv(envName);
        if (fromEnv != null && !fromEnv.isBlank())
        {
            return fromEnv.strip();
        }
        final Path tokenFile = Path.of(System.getProperty("user.home"), ".bitfusion", fileName);
        if (Files.isReadable(tokenFile))
        {
            try
            {
                return Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
            }
            catch (final IOException ignore)
            {
                // An unreadable token file means no token; the server says so if it needs one.
            }
        }
        return "";
    }

    /**
     * @return who this process is, as servers list it: user@host:pid (the JVM's name).
     */
    public static String defaultClientId()
    {
        String host;
        try
        {
            host = InetAddress.getLocalHost().getHostName();
        }
        catch (final IOException ex)
        {
            host = "unknown-host";
        }
        return System.getProperty("user.name", "user") + "@" + host + ":" + ProcessHandle.current().pid() +
            " (" + ManagementFactory.getRuntimeMXBean().getName() + ")";
    }
}
