package dev.bitfusion.kubernetes.admission;

import java.util.Objects;

/**
 * What the webhook injects into a pod: the image that carries the client, where the client lands, and
 * the names of the servers ConfigMap and token Secret it mounts from the pod's own namespace, so that no
 * secret is ever copied between namespaces. Set once, then {@link #conclude()} checks it.
 * <p>
 * Thread safety: configure on one thread; after {@link #conclude()} it is only read, and may be shared.
 */
public final class InjectionSettings
{
    /** Where the client payload lies in the image. */
    public static final String PAYLOAD_DIR_DEFAULT = "/opt/bitfusion";
    /** Where the client is mounted in a mutated pod's containers. */
    public static final String MOUNT_PATH_DEFAULT = "/bitfusion";
    /** The ConfigMap, in the pod's namespace, whose {@code servers.conf} key lists the GPU servers. */
    public static final String SERVERS_CONFIG_MAP_DEFAULT = "bitfusion-servers";
    /** The Secret, in the pod's namespace, whose {@code token} key the servers expect. */
    public static final String TOKEN_SECRET_DEFAULT = "bitfusion-token";
    /** The variable the client reads the token from (the agent's {@code ClientSettings.TOKEN_ENV_NAME}). */
    public static final String TOKEN_ENV_NAME = "BITFUSION_TOKEN";
    /** The key of the token in its Secret. */
    public static final String TOKEN_KEY = "token";
    /** The key of the servers file in its ConfigMap. */
    public static final String SERVERS_KEY = "servers.conf";
    /** Where the client looks for the servers file. */
    public static final String SERVERS_DIR = "/etc/bitfusion";

    private String clientImage;
    private String imagePullPolicy = "IfNotPresent";
    private String clientVersion;
    private String payloadDir = PAYLOAD_DIR_DEFAULT;
    private String mountPath = MOUNT_PATH_DEFAULT;
    private String serversConfigMap = SERVERS_CONFIG_MAP_DEFAULT;
    private String tokenSecret = TOKEN_SECRET_DEFAULT;
    private long gpuMemoryMib;
    private boolean concluded;

    /**
     * Checks the settings once; later changes are refused.
     *
     * @return this.
     * @throws IllegalStateException naming what is missing.
     */
    public InjectionSettings conclude()
    {
        if (null == clientImage || clientImage.isBlank())
        {
            throw new IllegalStateException("the client image is not set (the image this webhook runs from)");
        }
        if (null == clientVersion || clientVersion.isBlank())
        {
            throw new IllegalStateException("the client version is not set");
        }
        if (!mountPath.startsWith("/") || !payloadDir.startsWith("/"))
        {
            throw new IllegalStateException("the payload directory and mount path must be absolute: " +
                payloadDir + ", " + mountPath);
        }
        concluded = true;
        return this;
    }

    /**
     * @param image the image whose {@link #payloadDir()} holds the client, e.g. {@code bitfusion/bitfusion:0.1.0}.
     * @return this.
     */
    public InjectionSettings clientImage(final String image)
    {
        checkOpen();
        this.clientImage = image;
        return this;
    }

    /**
     * @return the image the init container copies the client from.
     */
    public String clientImage()
    {
        return clientImage;
    }

    /**
     * @param policy the init container's pull policy (Always, IfNotPresent, Never).
     * @return this.
     */
    public InjectionSettings imagePullPolicy(final String policy)
    {
        checkOpen();
        this.imagePullPolicy = Objects.requireNonNull(policy);
        return this;
    }

    /**
     * @return the init container's pull policy.
     */
    public String imagePullPolicy()
    {
        return imagePullPolicy;
    }

    /**
     * @param version the version of the client the image carries, checked against a pod's
     *                {@code bitfusion-client/version}.
     * @return this.
     */
    public InjectionSettings clientVersion(final String version)
    {
        checkOpen();
        this.clientVersion = version;
        return this;
    }

    /**
     * @return the version of the injected client.
     */
    public String clientVersion()
    {
        return clientVersion;
    }

    /**
     * @param dir where the client lies in the image.
     * @return this.
     */
    public InjectionSettings payloadDir(final String dir)
    {
        checkOpen();
        this.payloadDir = Objects.requireNonNull(dir);
        return this;
    }

    /**
     * @return where the client lies in the image.
     */
    public String payloadDir()
    {
        return payloadDir;
    }

    /**
     * @param path where the client is mounted in the pod's containers.
     * @return this.
     */
    public InjectionSettings mountPath(final String path)
    {
        checkOpen();
        this.mountPath = Objects.requireNonNull(path);
        return this;
    }

    /**
     * @return where the client is mounted in the pod's containers.
     */
    public String mountPath()
    {
        return mountPath;
    }

    /**
     * @param name the servers ConfigMap's name in each pod's namespace.
     * @return this.
     */
    public InjectionSettings serversConfigMap(final String name)
    {
        checkOpen();
        this.serversConfigMap = Objects.requireNonNull(name);
        return this;
    }

    /**
     * @return the servers ConfigMap's name.
     */
    public String serversConfigMap()
    {
        return serversConfigMap;
    }

    /**
     * @param name the token Secret's name in each pod's namespace.
     * @return this.
     */
    public InjectionSettings tokenSecret(final String name)
    {
        checkOpen();
        this.tokenSecret = Objects.requireNonNull(name);
        return this;
    }

    /**
     * @return the token Secret's name.
     */
    public String tokenSecret()
    {
        return tokenSecret;
    }

    /**
     * @param mib the memory of one of the pool's GPUs, so a slice in MiB counts for its share in quotas;
     *            0 (the default) counts such a slice as a whole GPU.
     * @return this.
     */
    public InjectionSettings gpuMemoryMib(final long mib)
    {
        checkOpen();
        this.gpuMemoryMib = mib;
        return this;
    }

    /**
     * @return the memory of one of the pool's GPUs, or 0 when not given.
     */
    public long gpuMemoryMib()
    {
        return gpuMemoryMib;
    }

    private void checkOpen()
    {
        if (concluded)
        {
            throw new IllegalStateException("settings are concluded");
        }
    }
}
