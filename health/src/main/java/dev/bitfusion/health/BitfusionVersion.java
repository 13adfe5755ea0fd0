package dev.bitfusion.health;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The bitfusion version this build is, as client and server report it to each other in the health
 * report. Read from a resource the build fills in, so it cannot drift from the project version.
 * <p>
 * Thread safe: computed once at class initialisation.
 */
public final class BitfusionVersion
{
    /**
     * What {@link #current()} reports when the resource is missing (classes run outside a build).
     */
    public static final String UNKNOWN = "unknown";

    private static final String RESOURCE = "bitfusion-version.properties";
    private static final String CURRENT = load();

    private BitfusionVersion()
    {
    }

    /**
     * @return e.g. "0.1.0-SNAPSHOT", or {@link #UNKNOWN}.
     */
    public static String current()
    {
        return CURRENT;
    }

    private static String load()
    {
        try (InputStream in = BitfusionVersion.class.getResourceAsStream(RESOURCE))
        {
            if (null == in)
            {
                return UNKNOWN;
            }
            final Properties properties = new Properties();
            properties.load(in);
            final String version = properties.getProperty("version", UNKNOWN).strip();
            // An unfiltered resource still holds the placeholder; that is no version at all.
            return version.isEmpty() || version.startsWith("${") ? UNKNOWN : version;
        }
        catch (final IOException ex)
        {
            return UNKNOWN;
        }
    }
}
