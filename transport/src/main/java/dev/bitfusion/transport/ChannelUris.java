package dev.bitfusion.transport;

import io.aeron.ChannelUriStringBuilder;
import io.aeron.CommonContext;

/**
 * The Aeron channels of the protocol, built in one place so both ends agree on their parameters.
 * <p>
 * Over UDP every message from a client travels to the server's endpoint (its one request port), and every reply
 * travels back on an Aeron response channel: the client's reply subscription reaches out to the server's response
 * port and the server's publication answers on that path, to the address and port the server sees. So replies
 * cross NAT and firewalls that pass client-initiated traffic, the client needs no inbound port, and the server
 * never sends to an address a message names. Aeron binds the response publications' control address on a socket
 * of its own, hence the second port: {@link Protocol#responsePort(int)}.
 */
public final class ChannelUris
{
    /** Control replies are small (a GpuList of a full server is some kilobytes): a small log suffices. */
    public static final int CONTROL_REPLY_TERM_LENGTH = 1024 * 1024;

    private ChannelUris()
    {
    }

    /**
     * @param endpoint where the server listens.
     * @param settings transport settings (MTU, term length).
     * @return the UDP channel a server subscribes to.
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
     * @param server              where the server listens.
     * @param settings            transport settings (MTU, term length).
     * @param replySubscriptionId the registration id of the client's reply subscription, to which the server's
     *                            answers to this publication travel.
     * @return the UDP channel a client publishes requests on.
     */
    public static String udpRequests(final Endpoint server, final TransportSettings settings, final long replySubscriptionId)
    {
        return new ChannelUriStringBuilder()
            .media("udp")
            .endpoint(server.toString())
            .mtu(settings.udpMtuFor(server.host()))
            .termLength(settings.termLength())
            .responseCorrelationId(replySubscriptionId)
            .build();
    }

    /**
     * @param server where the server listens; replies come from its response port.
     * @return the UDP channel a client receives replies on: it reaches out to the server, which answers on that path.
     */
    public static String udpReplies(final Endpoint server)
    {
        return new ChannelUriStringBuilder()
            .media("udp")
            .controlMode(CommonContext.CONTROL_MODE_RESPONSE)
            .controlEndpoint(responseEndpoint(server).toString())
            .build();
    }

    /**
     * @param server             where the server listens (its own address, as it binds it).
     * @param imageCorrelationId the correlation id of the image of the client's request publication.
     * @param clientHost         the client's address as the server sees it, which decides the MTU.
     * @param termLength         the publication's term length.
     * @param settings           transport settings (MTU).
     * @return the channel a server answers one client's publication on.
     */
    public static String udpResponse(
        final Endpoint server,
        final long imageCorrelationId,
        final String clientHost,
        final int termLength,
        final TransportSettings settings)
    {
        return new ChannelUriStringBuilder()
            .media("udp")
            .controlMode(CommonContext.CONTROL_MODE_RESPONSE)
            .controlEndpoint(responseEndpoint(server).toString())
            .responseCorrelationId(imageCorrelationId)
            .mtu(settings.udpMtuFor(clientHost))
            .termLength(termLength)
            .build();
    }

    /**
     * @param server where the server listens.
     * @return the endpoint of its response port.
     */
    public static Endpoint responseEndpoint(final Endpoint server)
    {
        return new Endpoint(server.host(), Protocol.responsePort(server.port()));
    }

    /**
     * @param settings transport settings (term length).
     * @return the IPC channel used by clients that share the server's media driver.
     */
    public static String ipc(final TransportSettings settings)
    {
        // Aeron caps a message at an eighth of the term, and a frame may not exceed a message.
        return new ChannelUriStringBuilder()
            .media("ipc")
            .mtu(Math.min(TransportSettings.LOOPBACK_MTU, settings.termLength() / 8))
            .termLength(settings.termLength())
            .build();
    }

    /**
     * @param channel   a channel a server subscribes to.
     * @param sessionId the Aeron session id of the one publication it should accept.
     * @return the channel that accepts only that publication: a session's request stream, bound to its opener.
     */
    public static String onlySession(final String channel, final int sessionId)
    {
        return new ChannelUriStringBuilder(channel).sessionId(sessionId).build();
    }

    /**
     * @param channel a channel string.
     * @return true for an IPC channel.
     */
    public static boolean isIpc(final String channel)
    {
        return channel.startsWith("aeron:ipc");
    }

    /**
     * @param sourceIdentity an image's source identity: "host:port", "[v6]:port", or "aeron:ipc".
     * @return the host part, which a NAT keeps for all of one client's sockets, or the identity itself for IPC.
     */
    public static String sourceHost(final String sourceIdentity)
    {
        if (sourceIdentity == null || isIpc(sourceIdentity))
        {
            return sourceIdentity;
        }
        final int colon = sourceIdentity.lastIndexOf(':');
        final String host = colon > 0 ? sourceIdentity.substring(0, colon) : sourceIdentity;
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }
}
