package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.ServerSession;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The streams this program created, with what they were created with, and which session a stream's work
 * goes to. The default streams (0, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD) belong to the current context;
 * the session orders a thread's default-stream work itself, so they all travel as stream 0.
 * <p>
 * Thread safety: thread safe.
 */
final class StreamTable
{
    static final long CU_STREAM_LEGACY = 0x1;
    static final long CU_STREAM_PER_THREAD = 0x2;

    /** What a stream was created with, for the stream queries (answered here, without a round trip). */
    record StreamInfo(long context, int flags, int priority)
    {
    }

    private final Sessions sessions;
    private final ContextState contexts;
    private final Map<Long, StreamInfo> streams = new ConcurrentHashMap<>();

    StreamTable(final Sessions sessions, final ContextState contexts)
    {
        this.sessions = sessions;
        this.contexts = contexts;
    }

    static boolean isDefaultStream(final long stream)
    {
        return stream == 0 || stream == CU_STREAM_LEGACY || stream == CU_STREAM_PER_THREAD;
    }

    /**
     * @return the stream as the server names it.
     */
    static long wireStream(final long stream)
    {
        return isDefaultStream(stream) ? 0 : stream;
    }

    /**
     * @return the session a stream's work goes to, or null for an unknown stream or no current context.
     */
    ServerSession sessionOf(final long stream)
    {
        return isDefaultStream(stream) ? contexts.currentSession() : sessions.ofHandle(stream);
    }

    /**
     * @return the GPU work on the stream runs on: the stream's, or the current context's for a default stream.
     */
    int deviceOf(final long stream)
    {
        return isDefaultStream(stream) ? contexts.currentDevice() : Handles.deviceOf(stream);
    }

    void add(final long stream, final StreamInfo info)
    {
        streams.put(stream, info);
    }

    StreamInfo info(final long stream)
    {
        return streams.get(stream);
    }

    StreamInfo remove(final long stream)
    {
        return streams.remove(stream);
    }
}
