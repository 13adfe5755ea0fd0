package dev.bitfusion.health.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a local probe reads about its host, so that unit tests can give a fixture tree and canned
 * commands instead of the real machine.
 * <p>
 * Probes never open an absolute path directly: they call {@link #path(String)}, which places
 * {@code /proc/self/limits} under {@link #root()}. On the real host the root is {@code /}; in a test it
 * is a fixture directory holding {@code proc/}, {@code sys/}, {@code usr/local/...}. Details printed in
 * reports use the absolute path as the user knows it, never the fixture location.
 * <p>
 * Immutable and thread-safe as long as the injected parts are.
 *
 * @param root           the directory standing for {@code /}.
 * @param environment    environment variables, e.g. LD_LIBRARY_PATH.
 * @param commandRunner  runs {@code dmesg} and the like.
 * @param network        resolution and routing.
 * @param nativeLoader   loads native libraries into this JVM.
 * @param javaVersion    version of the running JVM.
 */
public record HostView(
    Path root,
    Map<String, String> environment,
    CommandRunner commandRunner,
    NetworkView network,
    NativeLibraryLoader nativeLoader,
    Runtime.Version javaVersion)
{
    /**
     * How long a probe command (e.g. dmesg) may run on a real host.
     */
    public static final long COMMAND_TIMEOUT_MS = 5_000;

    /**
     * Validates the fields and copies the environment.
     *
     * @param root           the directory standing for {@code /}.
     * @param environment    environment variables.
     * @param commandRunner  runs commands.
     * @param network        resolution and routing.
     * @param nativeLoader   loads native libraries.
     * @param javaVersion    version of the running JVM.
     */
    public HostView
    {
        Objects.requireNonNull(root, "root");
        environment = Map.copyOf(environment);
        Objects.requireNonNull(commandRunner, "commandRunner");
        Objects.requireNonNull(network, "network");
        Objects.requireNonNull(nativeLoader, "nativeLoader");
        Objects.requireNonNull(javaVersion, "javaVersion");
    }

    /**
     * @return the real host this JVM runs on.
     */
    public static HostView system()
    {
        return new HostView(
            Path.of("/"),
            System.getenv(),
            new ProcessCommandRunner(COMMAND_TIMEOUT_MS),
            new JavaNetworkView(),
            System::load,
            Runtime.version());
    }

    /**
     * @param absolutePath a path as on the real host, e.g. "/proc/self/limits".
     * @return where to read it in this view.
     */
    public Path path(final String absolutePath)
    {
        final String relative = absolutePath.startsWith("/") ? absolutePath.substring(1) : absolutePath;
        return relative.isEmpty() ? root : root.resolve(relative);
    }

    /**
     * @param path a path inside this view.
     * @return the same path as the user knows it, e.g. "/sys/class/net/eth0/mtu".
     */
    public String displayPath(final Path path)
    {
        final Path normalizedRoot = root.toAbsolutePath().normalize();
        final Path normalized = path.toAbsolutePath().normalize();
        if (normalized.startsWith(normalizedRoot))
        {
            return "/" + normalizedRoot.relativize(normalized).toString().replace('\\', '/');
        }
        try
        {
            // A resolved link target is under the real root, which differs when the root is itself a link.
            final Path realRoot = root.toRealPath();
            if (normalized.startsWith(realRoot))
            {
                return "/" + realRoot.relativize(normalized).toString().replace('\\', '/');
            }
        }
        catch (final IOException ex)
        {
            // No real root: the path is shown as it is.
        }
        return path.toString();
    }

    /**
     * @param absolutePath a path as on the real host.
     * @return the file's content, trimmed.
     * @throws IOException when it cannot be read, including lack of permission.
     */
    public String readTrimmed(final String absolutePath) throws IOException
    {
        return readTrimmed(path(absolutePath));
    }

    /**
     * @param path a path inside this view.
     * @return the file's content, trimmed.
     * @throws IOException when it cannot be read, including lack of permission.
     */
    public static String readTrimmed(final Path path) throws IOException
    {
        return Files.readString(path, StandardCharsets.UTF_8).trim();
    }

    /**
     * @param name an environment variable.
     * @return its value, or the empty string when unset.
     */
    public String env(final String name)
    {
        return environment.getOrDefault(name, "");
    }

    /**
     * @param newRoot the directory standing for {@code /}.
     * @return this view with another root.
     */
    public HostView withRoot(final Path newRoot)
    {
        return new HostView(newRoot, environment, commandRunner, network, nativeLoader, javaVersion);
    }

    /**
     * @param newEnvironment environment variables.
     * @return this view with another environment.
     */
    public HostView withEnvironment(final Map<String, String> newEnvironment)
    {
        return new HostView(root, newEnvironment, commandRunner, network, nativeLoader, javaVersion);
    }

    /**
     * @param newRunner runs commands.
     * @return this view with another command runner.
     */
    public HostView withCommandRunner(final CommandRunner newRunner)
    {
        return new HostView(root, environment, newRunner, network, nativeLoader, javaVersion);
    }

    /**
     * @param newNetwork resolution and routing.
     * @return this view with another network.
     */
    public HostView withNetwork(final NetworkView newNetwork)
    {
        return new HostView(root, environment, commandRunner, newNetwork, nativeLoader, javaVersion);
    }

    /**
     * @param newLoader loads native libraries.
     * @return this view with another loader.
     */
    public HostView withNativeLoader(final NativeLibraryLoader newLoader)
    {
        return new HostView(root, environment, commandRunner, network, newLoader, javaVersion);
    }

    /**
     * @param newVersion version of the JVM.
     * @return this view with another JVM version.
     */
    public HostView withJavaVersion(final Runtime.Version newVersion)
    {
        return new HostView(root, environment, commandRunner, network, nativeLoader, newVersion);
    }
}
