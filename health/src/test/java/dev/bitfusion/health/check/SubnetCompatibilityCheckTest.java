package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.Fixtures;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.ServerAddress;
import dev.bitfusion.health.host.HostView;
import dev.bitfusion.health.host.JavaNetworkView;
import dev.bitfusion.health.host.LocalAddress;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

import static dev.bitfusion.health.Fixtures.host;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SubnetCompatibilityCheckTest
{
    private static HostView routedThrough(final String address, final int prefix)
    {
        return host("pass").withNetwork(new Fixtures.NoNetwork()
        {
            public Optional<LocalAddress> routeTo(final InetAddress destination)
            {
                try
                {
                    return Optional.of(new LocalAddress("ens192", InetAddress.getByName(address), prefix));
                }
                catch (final UnknownHostException ex)
                {
                    throw new IllegalStateException(ex);
                }
            }
        });
    }

    @Test
    void shouldPassWhenServerOnSameSubnet()
    {
        final CheckResult result = SubnetCompatibilityCheck.run(
            routedThrough("172.16.31.10", 24), ServerAddress.parse("172.16.31.206:56001"));

        assertEquals("interface/subnet compatibility for 172.16.31.206:56001", result.name());
        assertEquals(HealthStatus.PASS, result.status());
        assertEquals("Reached through ens192 (172.16.31.10/24), same subnet as 172.16.31.206", result.detail());
    }

    @Test
    void shouldBeMarginalWhenServerBehindRouter()
    {
        final CheckResult result = SubnetCompatibilityCheck.run(
            routedThrough("172.16.30.10", 24), ServerAddress.parse("172.16.31.206:56001"));

        assertEquals(HealthStatus.MARGINAL, result.status());
        assertEquals("Reached through ens192 (172.16.30.10/24), but 172.16.31.206 is on another subnet: " +
            "traffic goes through a router", result.detail());
    }

    @Test
    void shouldBeFatalWhenNoRouteOrNoName()
    {
        assertEquals(HealthStatus.FATAL,
            SubnetCompatibilityCheck.run(host("pass"), ServerAddress.parse("10.1.2.3:56001")).status());
        assertEquals("Cannot resolve gpu-nowhere",
            SubnetCompatibilityCheck.run(host("pass"), ServerAddress.parse("gpu-nowhere:56001")).detail());
    }

    @Test
    void shouldPassWhenServerOnThisHost()
    {
        assertEquals(HealthStatus.PASS,
            SubnetCompatibilityCheck.run(host("pass"), ServerAddress.parse("127.0.0.1:56001")).status());
    }

    @Test
    void shouldMatchSubnetBitsExactly() throws UnknownHostException
    {
        final LocalAddress local = new LocalAddress("eth0", InetAddress.getByName("10.0.0.1"), 23);

        assertTrue(local.sameSubnet(InetAddress.getByName("10.0.1.200")));
        assertEquals(false, local.sameSubnet(InetAddress.getByName("10.0.2.1")));
        assertEquals(false, local.sameSubnet(InetAddress.getByName("::1")));
    }

    @Test
    void shouldRouteLoopbackThroughLoopbackInterfaceOnRealHost() throws UnknownHostException
    {
        final Optional<LocalAddress> route = new JavaNetworkView().routeTo(InetAddress.getByName("127.0.0.1"));

        assertTrue(route.isPresent());
        assertTrue(route.get().address().isLoopbackAddress(), route.get()::describe);
    }
}
