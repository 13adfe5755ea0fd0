package dev.bitfusion.transport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Which local address this host uses to reach a server: the address a client must give the server for
 * replies, so that they come back over the same interface.
 */
public final class LocalRoute
{
    private LocalRoute()
    {
    }

    /**
     * @param server the server to reach.
     * @return the local address, bracketed when IPv6, ready for an Aeron endpoint.
     * @throws UncheckedIOException when there is no route to the server.
     */
    public static String addressTowards(final Endpoint server)
    {
        try (DatagramSocket probe = new DatagramSocket())
        {
            probe.connect(new InetSocketAddress(InetAddress.getByName(server.host()), server.port()));
            final InetAddress local = probe.getLocalAddress();
            if (local == null || local.isAnyLocalAddress())
            {
                return InetAddress.getLoopbackAddress().getHostAddress();
            }
            final String address = local.getHostAddress();
            return address.contains(":") ? "[" + address + "]" : address;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException("no route to bitfusion server " + server + ": " + ex.getMessage(), ex);
        }
    }
}
