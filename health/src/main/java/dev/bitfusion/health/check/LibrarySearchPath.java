package dev.bitfusion.health.check;

import dev.bitfusion.health.host.HostView;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The directories and toolkit roots in the order a CUDA program would find them: LD_LIBRARY_PATH
 * first (the loader searches it before the system directories), then CUDA_HOME, then the conventional
 * {@code /usr/local/cuda} link, then versioned {@code /usr/local/cuda-X.Y} installs, newest first.
 */
final class LibrarySearchPath
{
    static final List<String> SYSTEM_LIBRARY_DIRS = List.of(
        "/usr/local/cuda/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib");
    private static final Pattern VERSIONED_CUDA = Pattern.compile("cuda-(\\d+)(?:\\.(\\d+))?");

    private LibrarySearchPath()
    {
    }

    /**
     * @param host what to read.
     * @return LD_LIBRARY_PATH entries then the system library directories, as absolute host paths.
     */
    static List<String> libraryDirs(final HostView host)
    {
        final Set<String> dirs = new LinkedHashSet<>(ldLibraryPath(host));
        dirs.addAll(SYSTEM_LIBRARY_DIRS);
        return new ArrayList<>(dirs);
    }

    /**
     * @param host what to read.
     * @return candidate toolkit roots as absolute host paths, most preferred first.
     */
    static List<String> toolkitRoots(final HostView host)
    {
        final Set<String> roots = new LinkedHashSet<>();
        for (final String dir : ldLibraryPath(host))
        {
            final String trimmed = dir.endsWith("/") ? dir.substring(0, dir.length() - 1) : dir;
            if (trimmed.endsWith("/lib64") || trimmed.endsWith("/lib"))
            {
                roots.add(trimmed.substring(0, trimmed.lastIndexOf('/')));
            }
        }
        if (!host.env("CUDA_HOME").isBlank())
        {
            roots.add(host.env("CUDA_HOME"));
        }
        roots.add("/usr/local/cuda");
        roots.addAll(versionedInstalls(host));
        return new ArrayList<>(roots);
    }

    /**
     * @param dir a directory.
     * @return its entries' file names, empty when it cannot be listed.
     */
    static List<String> fileNames(final Path dir)
    {
        final List<String> names = new ArrayList<>();
        if (!Files.isDirectory(dir))
        {
            return names;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir))
        {
            for (final Path entry : stream)
            {
                names.add(entry.getFileName().toString());
            }
        }
        catch (final IOException ex)
        {
            // An unreadable directory holds nothing the loader could use either.
        }
        names.sort(null);
        return names;
    }

    private static List<String> ldLibraryPath(final HostView host)
    {
        final List<String> dirs = new ArrayList<>();
        for (final String dir : host.env("LD_LIBRARY_PATH").split(":"))
        {
            if (dir.startsWith("/"))
            {
                dirs.add(dir);
            }
        }
        return dirs;
    }

    private static List<String> versionedInstalls(final HostView host)
    {
        final List<String> installs = new ArrayList<>();
        for (final String name : fileNames(host.path("/usr/local")))
        {
            if (VERSIONED_CUDA.matcher(name).matches())
            {
                installs.add(name);
            }
        }
        installs.sort(Comparator.comparingLong(LibrarySearchPath::versionKey).reversed());
        final List<String> roots = new ArrayList<>();
        for (final String name : installs)
        {
            roots.add("/usr/local/" + name);
        }
        return roots;
    }

    private static long versionKey(final String name)
    {
        final Matcher matcher = VERSIONED_CUDA.matcher(name);
        if (!matcher.matches())
        {
            return 0;
        }
        final long major = Long.parseLong(matcher.group(1));
        final long minor = null == matcher.group(2) ? 0 : Long.parseLong(matcher.group(2));
        return major * 1000 + minor;
    }
}
