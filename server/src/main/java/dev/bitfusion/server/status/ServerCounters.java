package dev.bitfusion.server.status;

import io.aeron.Aeron;
import io.aeron.Counter;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The type ids of the server's counters and how they are made. Every counter is an Aeron counter, allocated by
 * the server's Aeron client in its media driver's counters file (the CnC file in the server's Aeron directory),
 * so AeronStat and any other reader of that file see them beside Aeron's own, by type id and label; the driver
 * frees them with the server's client if the server dies without closing them.
 * <p>
 * The type ids sit above the ranges Aeron's driver, archive and cluster use.
 * <p>
 * Thread safety: stateless; allocation is on control paths only (it waits for the media driver).
 */
public final class ServerCounters
{
    /** Requests a session executed. Key: session id (int64), GPU index (int32). */
    public static final int SESSION_CALLS_TYPE_ID = 7100;
    /** Bytes of requests a session received, message headers included. Same key. */
    public static final int SESSION_BYTES_IN_TYPE_ID = 7101;
    /** Bytes of replies a session sent, message headers included. Same key. */
    public static final int SESSION_BYTES_OUT_TYPE_ID = 7102;
    /** Replies of a session that carried an error: a failed call or an asynchronous error. Same key. */
    public static final int SESSION_ERRORS_TYPE_ID = 7103;
    /** The same four for all sessions of one GPU, past and present. Key: GPU index (int32). */
    public static final int GPU_CALLS_TYPE_ID = 7110;
    public static final int GPU_BYTES_IN_TYPE_ID = 7111;
    public static final int GPU_BYTES_OUT_TYPE_ID = 7112;
    public static final int GPU_ERRORS_TYPE_ID = 7113;
    /** Control replies (refusals, listings, health facts) dropped because too many were waiting. No key. */
    public static final int CONTROL_REPLIES_DROPPED_TYPE_ID = 7120;
    /** Control requests ignored because their source sent past its rate limit. No key. */
    public static final int CONTROL_REQUESTS_LIMITED_TYPE_ID = 7121;

    /** Longest label part taken from a client (its id), so a label stays within Aeron's limit. */
    static final int MAX_CLIENT_LABEL_LENGTH = 100;

    private ServerCounters()
    {
    }

    /**
     * @param aeron  the server's client.
     * @param typeId one of this class's type ids.
     * @param key    the counter's key, as its type id says.
     * @param label  what readers show.
     * @return the counter, to be closed by its owner.
     */
    static Counter allocate(final Aeron aeron, final int typeId, final UnsafeBuffer key, final String label)
    {
        final UnsafeBuffer labelBuffer = new UnsafeBuffer(new byte[label.length()]);
        final int labelLength = labelBuffer.putStringWithoutLengthAscii(0, label);
        return aeron.addCounter(typeId, key, 0, key.capacity(), labelBuffer, 0, labelLength);
    }

    /**
     * @param aeron the server's client.
     * @return the counter of control replies dropped.
     */
    public static Counter controlRepliesDropped(final Aeron aeron)
    {
        return allocate(aeron, CONTROL_REPLIES_DROPPED_TYPE_ID, new UnsafeBuffer(new byte[0]),
            "bitfusion control replies dropped");
    }

    /**
     * @param aeron the server's client.
     * @return the counter of control requests ignored past their source's rate limit.
     */
    public static Counter controlRequestsLimited(final Aeron aeron)
    {
        return allocate(aeron, CONTROL_REQUESTS_LIMITED_TYPE_ID, new UnsafeBuffer(new byte[0]),
            "bitfusion control requests limited");
    }
}
