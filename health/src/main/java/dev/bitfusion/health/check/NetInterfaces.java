package dev.bitfusion.health.check;

import dev.bitfusion.health.host.HostView;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The network interfaces listed in {@code /sys/class/net}, loopback excluded since it never carries
 * traffic to a remote server.
 */
final class NetInterfaces
{
    static final String CLASS_NET = "/sys/class/net";
    private static final String LOOPBACK = "lo";

    private NetInterfaces()
    {
    }

    /**
     * @param host what to read.
     * @return the interface directories, sorted by name.
     * @throws IOException when {@code /sys/class/net} cannot be listed.
     */
    static List<Path> list(final HostView host) throws IOException
    {
        final List<Path> interfaces = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(host.path(CLASS_NET)))
        {
            for (final Path entry : stream)
            {
                if (!LOOPBACK.equals(entry.getFileName().toString()))
                {
                    interfaces.add(entry);
                }
            }
        }
        interfaces.sort(null);
        return interfaces;
    }
}
