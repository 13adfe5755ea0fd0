package dev.bitfusion.cli;

import dev.bitfusion.agent.ServerConfig;
import dev.bitfusion.transport.Endpoint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the servers are, for every command: {@code --server_list}, else {@code BITFUSION_SERVERS} (both
 * comma separated), else {@code ~/.bitfusion/servers.conf} or {@code /etc/bitfusion/servers.conf}
 * ({@link ServerConfig}).
 */
final class ServerList
{
    static final String SERVERS_ENV_NAME = "BITFUSION_SERVERS";

    private ServerList()
    {
    }

    /**
     * @param option the --server_list value, or null.
     * @return the servers named, possibly none.
     * @throws IllegalArgumentException with a message for people when an address or a servers.conf is malformed.
     */
    static List<Endpoint> resolve(final String option)
    {
        final String text = option != null ? option : System.getenv(SERVERS_ENV_NAME);
        final List<Endpoint> servers = new ArrayList<>();
        if (text != null)
        {
            for (final String part : text.split(","))
            {
                if (!part.isBlank())
                {
                    servers.add(Endpoint.parse(part));
                }
            }
            return servers;
        }
        servers.addAll(ServerConfig.discover(Path.of(System.getProperty("user.home"))));
        return servers;
    }
}
