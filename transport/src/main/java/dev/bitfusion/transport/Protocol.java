package dev.bitfusion.transport;

import dev.bitfusion.transport.protocol.MessageHeaderEncoder;

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

    /** The server's control stream: session open/close and pool queries. */
    public static final int CONTROL_STREAM_ID = 1001;

    /** Request streams of sessions are numbered from here, one per session. */
    public static final int FIRST_SESSION_STREAM_ID = 100_000;

    /** The handle of a context's default (NULL) stream, and of the primary context. */
    public static final long NULL_HANDLE = 0;

    private Protocol()
    {
    }
}
