package dev.bitfusion.health;

import java.util.Objects;

/**
 * A server as configured, {@code host:port}.
 *
 * @param host a name or literal address; IPv6 literals without brackets.
 * @param port the server's port.
 */
public record ServerAddress(String host, int port)
{
    /**
     * Validates the fields.
     *
     * @param host a name or literal address.
     * @param port the server's port.
     */
    public ServerAddress
    {
        Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65535)
        {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    /**
     * @param text "host:port" or "[v6]:port".
     * @return the address.
     * @throws IllegalArgumentException when there is no port or it is not a number.
     */
    public static ServerAddress parse(final String text)
    {
        final int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1)
        {
            throw new IllegalArgumentException("expected host:port, got: " + text);
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]"))
        {
            host = host.substring(1, host.length() - 1);
        }
        try
        {
            return new ServerAddress(host, Integer.parseInt(text.substring(colon + 1)));
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("expected host:port, got: " + text, ex);
        }
    }

    /**
     * @return "host:port", with brackets around an IPv6 literal.
     */
    public String toString()
    {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
