package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.ServerAddress;
import dev.bitfusion.health.host.HostView;
import dev.bitfusion.health.host.LocalAddress;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Which local interface reaches a server and whether the server is on that interface's subnet: traffic
 * through a router adds latency to every CUDA call and often crosses a slower link.
 */
public final class SubnetCompatibilityCheck
{
    private SubnetCompatibilityCheck()
    {
    }

    /**
     * @param host   what to read.
     * @param server the server to reach.
     * @return the report line.
     */
    public static CheckResult run(final HostView host, final ServerAddress server)
    {
        final String name = "interface/subnet compatibility for " + server;
        final InetAddress address;
        try
        {
            address = host.network().resolve(server.host());
        }
        catch (final UnknownHostException ex)
        {
            return result(name, HealthStatus.FATAL, "Cannot resolve " + server.host());
        }

        if (address.isLoopbackAddress())
        {
            return result(name, HealthStatus.PASS, "Server is on this host (" + address.getHostAddress() + ")");
        }

        final Optional<LocalAddress> route = host.network().routeTo(address);
        if (route.isEmpty())
        {
            return result(name, HealthStatus.FATAL, "No local interface routes to " + address.getHostAddress());
        }

        final LocalAddress local = route.get();
        if (local.sameSubnet(address))
        {
            return result(name, HealthStatus.PASS,
                "Reached through " + local.describe() + ", same subnet as " + address.getHostAddress());
        }
        return result(name, HealthStatus.MARGINAL,
            "Reached through " + local.describe() + ", but " + address.getHostAddress() +
            " is on another subnet: traffic goes through a router");
    }

    /**
     * @return the report line when no server is configured.
     */
    public static CheckResult noServers()
    {
        return result("interface/subnet compatibility", HealthStatus.INFO, "No servers configured");
    }

    private static CheckResult result(final String name, final HealthStatus status, final String detail)
    {
        return new CheckResult(CheckGroup.PERFORMANCE, name, status, detail);
    }
}
