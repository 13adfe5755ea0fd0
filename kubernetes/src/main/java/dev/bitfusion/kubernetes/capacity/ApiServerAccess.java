package dev.bitfusion.kubernetes.capacity;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;

/**
 * How a pod reaches the Kubernetes API server: its address, the CA that signed its certificate, and the
 * service account token to present, the token read anew for each call since the kubelet rotates it.
 * <p>
 * Thread safety: immutable.
 */
public final class ApiServerAccess
{
    /** Where the kubelet mounts a pod's service account credentials. */
    public static final Path SERVICE_ACCOUNT_DIR = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");

    private final URI server;
    private final Path caFile;
    private final Path tokenFile;

    /**
     * @param server    e.g. {@code https://10.96.0.1:443}.
     * @param caFile    PEM certificates that signed the API server's.
     * @param tokenFile the bearer token.
     */
    public ApiServerAccess(final URI server, final Path caFile, final Path tokenFile)
    {
        this.server = server;
        this.caFile = caFile;
        this.tokenFile = tokenFile;
    }

    /**
     * @param environment the process environment.
     * @return the access a pod has: {@code KUBERNETES_SERVICE_HOST}, {@code KUBERNETES_SERVICE_PORT} and the
     * mounted service account.
     * @throws IllegalStateException when not in a pod.
     */
    public static ApiServerAccess inCluster(final Map<String, String> environment)
    {
        final String host = environment.get("KUBERNETES_SERVICE_HOST");
        final String port = environment.getOrDefault("KUBERNETES_SERVICE_PORT", "443");
        if (null == host || host.isBlank())
        {
            throw new IllegalStateException("KUBERNETES_SERVICE_HOST is not set: not running in a pod; give --api-server");
        }
        final String bracketed = host.contains(":") ? "[" + host + "]" : host;
        return new ApiServerAccess(URI.create("https://" + bracketed + ":" + port),
            SERVICE_ACCOUNT_DIR.resolve("ca.crt"), SERVICE_ACCOUNT_DIR.resolve("token"));
    }

    /**
     * @return the API server's base address.
     */
    public URI server()
    {
        return server;
    }

    /**
     * @return the CA file.
     */
    public Path caFile()
    {
        return caFile;
    }

    /**
     * @return the token file.
     */
    public Path tokenFile()
    {
        return tokenFile;
    }
}
