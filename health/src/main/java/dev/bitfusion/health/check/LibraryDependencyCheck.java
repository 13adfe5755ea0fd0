package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.host.HostView;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether what bitfusion runs on loads: the JVM at the required feature release, and native libraries
 * (our {@code libcuda.so.1}, JCuda natives on a GPU server) actually linked into this process, since a
 * missing dependency of a library only shows when the loader resolves it.
 */
public final class LibraryDependencyCheck
{
    /**
     * The Java feature release the project is built for.
     */
    public static final int MIN_JAVA_FEATURE = 17;

    private LibraryDependencyCheck()
    {
    }

    /**
     * @param host what to read.
     * @return the report line for the JVM.
     */
    public static CheckResult jvm(final HostView host)
    {
        final String name = "library dependency: Java >= " + MIN_JAVA_FEATURE;
        final Runtime.Version version = host.javaVersion();
        if (version.feature() >= MIN_JAVA_FEATURE)
        {
            return result(name, HealthStatus.PASS, "Current version: " + version);
        }
        return result(name, HealthStatus.FATAL, "Current version: " + version + " < " + MIN_JAVA_FEATURE);
    }

    /**
     * Loads a native library into this JVM. Loading runs the library's initialisers, which is the point:
     * a library that loads here loads in the application too.
     *
     * @param host    what to read, and the loader to use.
     * @param library the library as an absolute host path, e.g. "/opt/bitfusion/lib/libcuda.so.1".
     * @return the report line for that library.
     */
    public static CheckResult nativeLibrary(final HostView host, final String library)
    {
        final String fileName = library.substring(library.lastIndexOf('/') + 1);
        final String name = "library dependency: " + fileName;
        final Path path = host.path(library);
        if (!Files.exists(path))
        {
            return result(name, HealthStatus.INFO, "Not installed at " + library);
        }
        try
        {
            host.nativeLoader().load(path.toAbsolutePath().toString());
            return result(name, HealthStatus.PASS, "Loaded " + library);
        }
        catch (final UnsatisfiedLinkError | SecurityException ex)
        {
            return result(name, HealthStatus.FATAL, "Cannot load " + library + ": " + ex.getMessage());
        }
    }

    private static CheckResult result(final String name, final HealthStatus status, final String detail)
    {
        return new CheckResult(CheckGroup.SOFTWARE_VERSIONS, name, status, detail);
    }
}
