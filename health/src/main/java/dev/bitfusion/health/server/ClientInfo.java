package dev.bitfusion.health.server;

import java.util.Objects;

/**
 * The client's side of the version comparisons with a server.
 *
 * @param bitfusionVersion the client's bitfusion version.
 * @param protocolVersion  the client's wire protocol version.
 */
public record ClientInfo(String bitfusionVersion, int protocolVersion)
{
    /**
     * Validates the fields.
     *
     * @param bitfusionVersion the client's bitfusion version.
     * @param protocolVersion  the client's wire protocol version.
     */
    public ClientInfo
    {
        Objects.requireNonNull(bitfusionVersion, "bitfusionVersion");
    }
}
