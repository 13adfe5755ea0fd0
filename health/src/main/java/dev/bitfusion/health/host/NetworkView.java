package dev.bitfusion.health.host;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Name resolution and routing as the health checks see them. Injected so tests need no network.
 */
public interface NetworkView
{
    /**
     * @param host a host name or literal address.
     * @return the address connections would go to.
     * @throws UnknownHostException when the name does not resolve.
     */
    InetAddress resolve(String host) throws UnknownHostException;

    /**
     * @param destination a remote address.
     * @return the local address and interface the kernel would send from, or empty when there is no route.
     */
    Optional<LocalAddress> routeTo(InetAddress destination);
}
