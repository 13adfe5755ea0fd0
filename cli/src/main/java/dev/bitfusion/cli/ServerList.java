package dev.bitfusion.cli;

import dev.bitfusion.transport.Endpoint;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the servers are: {@code --server_list}, else {@code BITFUSION_SERVERS}, both comma separated.
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
        }
        return servers;
    }
}
