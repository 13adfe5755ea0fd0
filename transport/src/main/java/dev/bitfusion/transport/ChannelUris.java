package dev.bitfusion.transport;

import io.aeron.ChannelUriStringBuilder;

/**
 * The Aeron channels of the protocol, built in one place so both ends agree on their parameters.
 */
public final class ChannelUris
{
    private ChannelUris()
    {
    }

    /**
     * @param endpoint where the server listens.
     * @param settings transport settings (MTU, term length).
     * @return the UDP channel a server subscribes to and a client publishes to.
     */
    public static String udp(final Endpoint endpoint, final TransportSettings settings)
    {
        return new ChannelUriStringBuilder()
            .media("udp")
            .endpoint(endpoint.toString())
            .mtu(settings.udpMtuFor(endpoint.host()))
            .termLength(settings.termLength())
            .build();
    }

    /**
     * @param settings transport settings (term length).
     * @return the IPC channel used by clients that share the server's media driver.
     */
    public static String ipc(final TransportSettings settings)
    {
        return new ChannelUriStringBuilder()
            .media("ipc")
            .mtu(TransportSettings.LOOPBACK_MTU)
            .termLength(settings.termLength())
            .build();
    }

    /**
     * @param channel a channel string.
     * @return true for an IPC channel.
     */
    public static boolean isIpc(final String channel)
    {
        return channel.startsWith("aeron:ipc");
    }
}
