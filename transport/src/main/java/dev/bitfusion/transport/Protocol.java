package dev.bitfusion.transport;

import dev.bitfusion.transport.protocol.MessageHeaderEncoder;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Constants both ends of the wire agree on.
 */
public final class Protocol
{
    /**
     * The schema's version, checked when a session opens: the schema is bumped on any incompatible change to
     * a message or to what its fields mean.
     */
    public static final int VERSION = MessageHeaderEncoder.SCHEMA_VERSION;

    /** The port a server listens on unless told otherwise. */
    public static final int DEFAULT_PORT = 56001;

    /** The server's control stream: session opens and pool and health queries. */
    public static final int CONTROL_STREAM_ID = 1001;

    /**
     * Streams a client chooses (its reply streams, its sessions' request streams) are drawn at random from here
     * up: they never meet the control stream, and a stranger cannot guess them.
     */
    public static final int FIRST_CLIENT_STREAM_ID = 100_000;

    /** The handle of a context's default (NULL) stream, and of the primary context. */
    public static final long NULL_HANDLE = 0;

    private Protocol()
    {
    }

    /**
     * @param port a server's UDP port, where requests arrive.
     * @return the port its replies leave from: the next one. Aeron binds a response publication's control
     * address on a socket apart from the subscription's, so a server uses two neighbouring ports.
     */
    public static int responsePort(final int port)
    {
        if (port < 1 || port >= 65535)
        {
            throw new IllegalArgumentException("a server port must be in 1..65534 (the next one carries replies): " + port);
        }
        return port + 1;
    }

    /**
     * @return a stream id for a client's reply or request stream: random, at or above
     * {@link #FIRST_CLIENT_STREAM_ID}.
     */
    public static int newClientStreamId()
    {
        return ThreadLocalRandom.current().nextInt(FIRST_CLIENT_STREAM_ID, Integer.MAX_VALUE);
    }
}
