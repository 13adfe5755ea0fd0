package dev.bitfusion.transport;

/**
 * Constants both ends of the wire agree on.
 */
public final class Protocol
{
    /** Bumped on any incompatible change to the schema or its semantics; checked when a session opens. */
    public static final int VERSION = 1;

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
