package dev.bitfusion.health;

import dev.bitfusion.health.host.CommandResult;
import dev.bitfusion.health.host.HostView;
import dev.bitfusion.health.host.LocalAddress;
import dev.bitfusion.health.host.NetworkView;

import java.net.InetAddress;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Host views over the fixture trees in src/test/resources/hosts, with no network, an empty
 * environment, a dmesg that prints nothing and a loader that loads nothing.
 */
public final class Fixtures
{
    private Fixtures()
    {
    }

    public static Path root(final String name)
    {
        final URL url = Fixtures.class.getResource("/hosts/" + name);
        if (null == url)
        {
            throw new IllegalArgumentException("no fixture tree " + name);
        }
        try
        {
            return Path.of(url.toURI());
        }
        catch (final URISyntaxException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    public static HostView host(final String name)
    {
        return host(root(name));
    }

    public static HostView host(final Path root)
    {
        return new HostView(
            root,
            Map.of(),
            (command) -> new CommandResult(0, "", ""),
            new NoNetwork(),
            (path) -> {},
            Runtime.Version.parse("17.0.15+6"));
    }

    /**
     * Resolves literal addresses only, and routes nowhere.
     */
    public static class NoNetwork implements NetworkView
    {
        public InetAddress resolve(final String host) throws UnknownHostException
        {
            if (!Character.isDigit(host.charAt(0)))
            {
                throw new UnknownHostException(host);
            }
            return InetAddress.getByName(host);
        }

        public Optional<LocalAddress> routeTo(final InetAddress destination)
        {
            return Optional.empty();
        }
    }
}
