package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.host.HostView;

import java.io.IOException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cuDNN library a program on this client would load: the first {@code libcudnn.so*} in
 * LD_LIBRARY_PATH, then the system library directories. The version is read from the file name, or
 * from the file an unversioned {@code libcudnn.so} links to, as that is what the loader resolves.
 */
public final class CudnnCheck implements HostCheck
{
    static final String NAME = "cuDNN version";
    private static final Pattern LIBRARY = Pattern.compile("libcudnn\\.so(\\..*)?");
    private static final Pattern VERSION = Pattern.compile("libcudnn\\.so\\.(\\d+(?:\\.\\d+)*)");

    /**
     * {@inheritDoc}
     */
    public CheckResult run(final HostView host)
    {
        for (final String dir : LibrarySearchPath.libraryDirs(host))
        {
            String unversioned = null;
            for (final String name : LibrarySearchPath.fileNames(host.path(dir)))
            {
                if (!LIBRARY.matcher(name).matches())
                {
                    continue;
                }
                final Matcher version = VERSION.matcher(name);
                if (version.matches())
                {
                    return result(HealthStatus.PASS, "cuDNN " + version.group(1) + " at " + dir + "/" + name);
                }
                unversioned = name;
            }

            if (null != unversioned)
            {
                return fromLinkTarget(host, dir + "/" + unversioned);
            }
        }
        return result(HealthStatus.INFO, "No cuDNN library found (LD_LIBRARY_PATH, system library directories)");
    }

    private static CheckResult fromLinkTarget(final HostView host, final String library)
    {
        try
        {
            final Path target = host.path(library).toRealPath();
            final Matcher version = VERSION.matcher(target.getFileName().toString());
            if (version.matches())
            {
                return result(HealthStatus.PASS, "cuDNN " + version.group(1) + " at " + host.displayPath(target));
            }
        }
        catch (final IOException ex)
        {
            return result(HealthStatus.MARGINAL, "Unable to parse cuDNN version from " + library + ": " + ex.getMessage());
        }
        return result(HealthStatus.MARGINAL, "Unable to parse cuDNN version from " + library);
    }

    private static CheckResult result(final HealthStatus status, final String detail)
    {
        return new CheckResult(CheckGroup.SOFTWARE_VERSIONS, NAME, status, detail);
    }
}
