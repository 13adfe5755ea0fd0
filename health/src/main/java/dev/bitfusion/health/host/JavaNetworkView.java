package dev.bitfusion.health.host;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * {@link NetworkView} of this host through {@link java.net}.
 * <p>
 * The route is found by connecting a UDP socket, which makes the kernel choose the source address
 * without sending a packet; the interface is then the one holding that address.
 * <p>
 * Thread-safe.
 */
public final class JavaNetworkView implements NetworkView
{
    private static final int DISCARD_PORT = 9;

    /**
     * {@inheritDoc}
     */
    public InetAddress resolve(final String host) throws UnknownHostException
    {
        return InetAddress.getByName(host);
    }

    /**
     * {@inheritDoc}
     */
    public Optional<LocalAddress> routeTo(final InetAddress destination)
    {
        try (DatagramSocket socket = new DatagramSocket())
        {
            socket.connect(destination, DISCARD_PORT);
            final InetAddress source = socket.getLocalAddress();
            if (null == source || source.isAnyLocalAddress())
            {
                return Optional.empty();
            }

            final NetworkInterface networkInterface = NetworkInterface.getByInetAddress(source);
            if (null == networkInterface)
            {
                return Optional.empty();
            }
            for (final InterfaceAddress interfaceAddress : networkInterface.getInterfaceAddresses())
            {
                if (source.equals(interfaceAddress.getAddress()))
                {
                    return Optional.of(new LocalAddress(
                        networkInterface.getName(), source, interfaceAddress.getNetworkPrefixLength()));
                }
            }
            return Optional.empty();
        }
        catch (final IOException | RuntimeException ex)
        {
            // An unreachable network makes connect fail: that is the "no route" answer, not an error.
            return Optional.empty();
        }
    }
}
