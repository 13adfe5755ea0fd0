package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.host.HostView;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The bitfusion distribution this command runs from: {@code bin/bitfusion} present and executable, and
 * the jars under {@code lib/} that it puts on the class path. A build tree is a distribution too:
 * there {@code bin/bitfusion} runs the jars the build copies to {@code cli/target/lib}.
 */
public final class InstallCheck
{
    static final String NAME = "bitfusion install";
    static final String LAUNCHER = "bin/bitfusion";
    static final String LIB = "lib";
    static final String BUILD_TREE_LIB = "cli/target/lib";

    private InstallCheck()
    {
    }

    /**
     * @param host        what to read.
     * @param installRoot the distribution's root as an absolute host path, or null when not known (run
     *                    from a build tree or an IDE).
     * @return the report line.
     */
    public static CheckResult run(final HostView host, final String installRoot)
    {
        if (null == installRoot)
        {
            return result(HealthStatus.SKIPPED, "Install root unknown: not run from a bitfusion distribution");
        }

        final Path root = host.path(installRoot);
        if (!Files.isDirectory(root))
        {
            return result(HealthStatus.FATAL, "Install root " + installRoot + " is not a directory");
        }
        final Path launcher = root.resolve(LAUNCHER);
        if (!Files.isRegularFile(launcher))
        {
            return result(HealthStatus.FATAL, "Missing " + installRoot + "/" + LAUNCHER);
        }
        if (!Files.isExecutable(launcher))
        {
            return result(HealthStatus.FATAL, installRoot + "/" + LAUNCHER + " is not executable (chmod +x)");
        }

        for (final String lib : List.of(LIB, BUILD_TREE_LIB))
        {
            final List<String> jars = jars(root.resolve(lib));
            if (!jars.isEmpty())
            {
                return result(HealthStatus.PASS,
                    installRoot + ": " + LAUNCHER + " executable, " + jars.size() + " jar(s) in " + lib);
            }
        }
        return result(HealthStatus.FATAL, "No jars in " + installRoot + "/" + LIB);
    }

    private static List<String> jars(final Path directory)
    {
        return LibrarySearchPath.fileNames(directory).stream()
            .filter((name) -> name.endsWith(".jar"))
            .toList();
    }

    private static CheckResult result(final HealthStatus status, final String detail)
    {
        return new CheckResult(CheckGroup.SYSTEM_RESOURCES, NAME, status, detail);
    }
}
