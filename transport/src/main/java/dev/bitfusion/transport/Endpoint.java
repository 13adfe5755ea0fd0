package dev.bitfusion.transport;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A HOST:PORT a server listens on or a client connects to.
 *
 * @param host a name or address.
 * @param port the UDP port.
 */
public record Endpoint(String host, int port)
{
    /**
     * @param text "HOST:PORT", "HOST" (default port) or "[v6]:PORT".
     * @return the endpoint.
     * @throws IllegalArgumentException with a message for people when the text is not an endpoint.
     */
    public static Endpoint parse(final String text)
    {
        final String trimmed = text == null ? "" : text.trim();
        if (trimmed.isEmpty())
        {
            throw new IllegalArgumentException("empty server address: expected HOST:PORT");
        }

        final int colon = trimmed.lastIndexOf(':');
        final boolean bracketed = trimmed.startsWith("[");
        if (colon < 0 || (bracketed && colon < trimmed.indexOf(']')))
        {
            return new Endpoint(trimmed, Protocol.DEFAULT_PORT);
        }

        final String host = trimmed.substring(0, colon);
        final String portText = trimmed.substring(colon + 1);
        final int port;
        try
        {
            port = Integer.parseInt(portText);
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("bad port '" + portText + "' in server address '" + text + "'");
        }
        if (port < 1 || port > 65535 || host.isEmpty())
        {
            throw new IllegalArgumentException("bad server address '" + text + "': expected HOST:PORT");
        }
        return new Endpoint(host, port);
    }

    /**
     * @param host a name or address.
     * @return true when the host resolves to a loopback address.
     */
    public static boolean isLoopback(final String host)
    {
        try
        {
            return InetAddress.getByName(host).isLoopbackAddress();
        }
        catch (final UnknownHostException ex)
        {
            return false;
        }
    }

    public String toString()
    {
        return host + ":" + port;
    }
}
