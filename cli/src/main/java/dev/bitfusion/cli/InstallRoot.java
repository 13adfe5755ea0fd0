package dev.bitfusion.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;

/**
 * Where the bitfusion distribution this command runs from is rooted, for the install check of
 * {@code bitfusion health}. {@code bin/bitfusion} puts the jars of {@code lib/} (a distribution) or of
 * {@code cli/target/lib} (a build tree) on the class path, so the root follows from where this class's jar
 * lies; {@code -Dbitfusion.home} overrides it.
 * <p>
 * Thread safety: stateless.
 */
final class InstallRoot
{
    /** Names the install root explicitly. */
    static final String HOME_PROP_NAME = "bitfusion.home";

    private InstallRoot()
    {
    }

    /**
     * @return the root as an absolute path, or null when not run from a jar (an IDE, the build's classes).
     */
    static String discover()
    {
        final String home = System.getProperty(HOME_PROP_NAME);
        if (home != null && !home.isBlank())
        {
            return Path.of(home).toAbsolutePath().normalize().toString();
        }
        final CodeSource source = InstallRoot.class.getProtectionDomain().getCodeSource();
        if (null == source)
        {
            return null;
        }
        try
        {
            return fromJar(Path.of(source.getLocation().toURI()));
        }
        catch (final URISyntaxException | IllegalArgumentException ex)
        {
            return null;
        }
    }

    /**
     * @param jar where this class was loaded from.
     * @return the root for a jar in {@code ROOT/lib} or {@code ROOT/cli/target/lib}, else null.
     */
    static String fromJar(final Path jar)
    {
        final Path absolute = jar.toAbsolutePath().normalize();
        final Path lib = absolute.getParent();
        if (Files.isDirectory(absolute) || null == lib || !lib.endsWith("lib") || null == lib.getParent())
        {
            return null;
        }
        final Path parent = lib.getParent();
        if (parent.endsWith(Path.of("cli", "target")) && null != parent.getParent() && null != parent.getParent().getParent())
        {
            return parent.getParent().getParent().toString();
        }
        return parent.toString();
    }
}
