package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.host.HostView;

import java.io.IOException;
import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CUDA toolkit a program on this client would use, from the first toolkit root (see
 * {@link LibrarySearchPath}) that has {@code version.json} (CUDA 11.1 on) or {@code version.txt}
 * (before), or, for toolkits installed from NVIDIA's Python wheels, the version of its
 * {@code dist-info/nvidia_cuda_runtime-X.Y.Z.dist-info}. A root with a CUDA runtime library but none of
 * these is MARGINAL. A client needs no toolkit to run prebuilt programs, so its absence is INFO.
 */
public final class CudaToolkitCheck implements HostCheck
{
    static final String NAME = "CUDA toolkit version";
    private static final Pattern JSON_VERSION =
        Pattern.compile("\"cuda\"\\s*:\\s*\\{[^}]*?\"version\"\\s*:\\s*\"(\\d+(?:\\.\\d+)+)\"", Pattern.DOTALL);
    private static final Pattern TXT_VERSION = Pattern.compile("CUDA Version\\s+(\\d+(?:\\.\\d+)+)");
    private static final Pattern WHEEL_RUNTIME = Pattern.compile("nvidia_cuda_runtime-(\\d+(?:\\.\\d+)+)\\.dist-info");

    /**
     * {@inheritDoc}
     */
    public CheckResult run(final HostView host)
    {
        for (final String root : LibrarySearchPath.toolkitRoots(host))
        {
            for (final String file : new String[]{ "version.json", "version.txt" })
            {
                final String versionFile = root + "/" + file;
                if (!Files.isRegularFile(host.path(versionFile)))
                {
                    continue;
                }

                final String content;
                try
                {
                    content = host.readTrimmed(versionFile);
                }
                catch (final IOException ex)
                {
                    return result(HealthStatus.MARGINAL,
                        "Unable to parse CUDA toolkit version from " + versionFile + ": " + ex.getMessage());
                }

                final Matcher matcher = (file.endsWith(".json") ? JSON_VERSION : TXT_VERSION).matcher(content);
                if (matcher.find())
                {
                    return result(HealthStatus.PASS, "CUDA toolkit " + matcher.group(1) + " at " + root);
                }
                return result(HealthStatus.MARGINAL, "Unable to parse CUDA toolkit version from " + versionFile);
            }

            final String wheelVersion = wheelRuntimeVersion(host, root);
            if (wheelVersion != null)
            {
                return result(HealthStatus.PASS, "CUDA toolkit " + wheelVersion + " at " + root);
            }
            if (Files.exists(host.path(root + "/lib64/libcudart.so")) || Files.exists(host.path(root + "/lib64")))
            {
                return result(HealthStatus.MARGINAL, "Unable to parse CUDA toolkit version from " + root +
                    " (no version.json, version.txt or nvidia_cuda_runtime dist-info)");
            }
        }
        return result(HealthStatus.INFO, "No CUDA toolkit found (LD_LIBRARY_PATH, CUDA_HOME, /usr/local/cuda*)");
    }

    private static String wheelRuntimeVersion(final HostView host, final String root)
    {
        try (java.util.stream.Stream<java.nio.file.Path> entries = Files.list(host.path(root + "/dist-info")))
        {
            return entries
                .map(entry -> WHEEL_RUNTIME.matcher(entry.getFileName().toString()))
                .filter(Matcher::matches)
                .map(matcher -> matcher.group(1))
                .findFirst()
                .orElse(null);
        }
        catch (final IOException ex)
        {
            return null;
        }
    }

    private static CheckResult result(final HealthStatus status, final String detail)
    {
        return new CheckResult(CheckGroup.SOFTWARE_VERSIONS, NAME, status, detail);
    }
}
