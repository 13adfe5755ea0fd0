package dev.bitfusion.server;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableRingBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.ControlledMessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.agrona.concurrent.status.AtomicCounter;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;

/**
 * Sends the control stream's replies (refusals, pool listings, health facts) to clients that hold no session,
 * so have no session publication, with bounded work whatever the clients do: one agent, no thread per reply.
 * <p>
 * A reply is copied into a bounded queue ({@link #send}, from any thread); the agent takes it from there, offers
 * it on a publication to the client's reply channel and, while the client has not connected, keeps it waiting
 * for up to the reply timeout. Publications are kept for the next reply to the same client and closed once idle
 * for the reply timeout; at most {@link #MAX_PUBLICATIONS} are open at once, and replies to a new client wait in
 * the queue while all of them are busy, for at most {@link #CONNECT_GRACE_NS} behind a client that never connected.
 * A reply that finds the queue full (a flood of requests, or clients that
 * never connect) is dropped: counted on the control replies dropped counter and in the error log.
 * <pre>
 *   queued reply: replyStreamId (int32), channelLength (int32), channel (ASCII), message
 * </pre>
 * Thread safety: {@link #send} from any thread; the agent's methods on its runner's thread.
 */
final class ControlReplySender implements Agent, ControlledMessageHandler
{
    /** Bytes of replies that may wait to be sent: a GpuList of a full server is some kilobytes. */
    static final int QUEUE_BYTES = 1024 * 1024;
    /** Reply publications open at once, each to one client's reply channel and stream. */
    static final int MAX_PUBLICATIONS = 16;
    /** How long a reply's client may take to connect before a newer client may take its publication. */
    static final long CONNECT_GRACE_NS = 500_000_000L;
    /** Bytes of replies one client may have waiting for it to connect. */
    static final int MAX_WAITING_BYTES_PER_CLIENT = 256 * 1024;
    static final String DROPPED_MESSAGE =
        "control: replies dropped: too many wait to go out (see the control replies dropped counter)";

    private static final int REPLY_MSG_TYPE_ID = 1;
    private static final int STREAM_ID_OFFSET = 0;
    private static final int CHANNEL_LENGTH_OFFSET = STREAM_ID_OFFSET + Integer.BYTES;
    private static final int CHANNEL_OFFSET = CHANNEL_LENGTH_OFFSET + Integer.BYTES;
    /** Replies taken from the queue per turn: more than the control adapter can ask for in one. */
    private static final int REPLIES_PER_WORK = 4 * ControlAdapter.FRAGMENT_LIMIT;

    /** A publication to one client's reply channel and stream, with the replies that wait for it. */
    private static final class ReplyPublication
    {
        final String key;
        final ExclusivePublication publication;
        final ExpandableRingBuffer waiting = new ExpandableRingBuffer(0, MAX_WAITING_BYTES_PER_CLIENT, false);
        long waitingSinceNs;
        long lastActiveNs;

        ReplyPublication(final String key, final ExclusivePublication publication, final long nowNs)
        {
            this.key = key;
            this.publication = publication;
            this.lastActiveNs = nowNs;
        }

        boolean offer(final DirectBuffer buffer, final int offset, final int length)
        {
            return publication.offer(buffer, offset, length) > 0;
        }
    }

    private final Aeron aeron;
    private final ServerErrorLog errorLog;
    private final AtomicCounter dropped;
    private final long replyTimeoutNs;
    private final RingBuffer queue =
        new ManyToOneRingBuffer(new UnsafeBuffer(ByteBuffer.allocateDirect(QUEUE_BYTES + RingBufferDescriptor.TRAILER_LENGTH)));
    private final Map<String, ReplyPublication> publicationsByKey = new HashMap<>();
    private final ArrayList<ReplyPublication> publications = new ArrayList<>();
    private ReplyPublication draining;
    private final ExpandableRingBuffer.MessageConsumer offerWaiting =
        (buffer, offset, length, headOffset) -> draining.offer(buffer, offset, length);
    private long nowNs;

    /**
     * @param aeron          the server's client, which makes the publications.
     * @param errorLog       where drops and clients that never connected are told.
     * @param dropped        counts the replies dropped; closed by its owner.
     * @param replyTimeoutNs how long a reply waits for its client to connect, and an idle publication stays.
     */
    ControlReplySender(
        final Aeron aeron, final ServerErrorLog errorLog, final AtomicCounter dropped, final long replyTimeoutNs)
    {
        this.aeron = aeron;
        this.errorLog = errorLog;
        this.dropped = dropped;
        this.replyTimeoutNs = replyTimeoutNs;
    }

    /**
     * Queue a reply.
     *
     * @param channel  the reply channel the client named.
     * @param streamId its reply stream.
     * @param message  the encoded message; copied before this returns.
     * @param length   its length.
     * @return false when the reply was dropped (counted): too many replies wait already.
     */
    boolean send(final String channel, final int streamId, final DirectBuffer message, final int length)
    {
        final int recordLength = CHANNEL_OFFSET + channel.length() + length;
        final int index = recordLength <= queue.maxMsgLength() ? queue.tryClaim(REPLY_MSG_TYPE_ID, recordLength) : -1;
        if (index <= 0)
        {
            drop();
            return false;
        }
        final MutableDirectBuffer buffer = queue.buffer();
        buffer.putInt(index + STREAM_ID_OFFSET, streamId);
        buffer.putInt(index + CHANNEL_LENGTH_OFFSET, channel.length());
        buffer.putStringWithoutLengthAscii(index + CHANNEL_OFFSET, channel);
        buffer.putBytes(index + CHANNEL_OFFSET + channel.length(), message, 0, length);
        queue.commit(index);
        return true;
    }

    /**
     * @return the publications open now, for tests of its bounds.
     */
    int publicationCount()
    {
        return publications.size();
    }

    public String roleName()
    {
        return "bitfusion-control-replies";
    }

    public int doWork()
    {
        nowNs = System.nanoTime();
        int work = sendWaiting();
        work += queue.controlledRead(this, REPLIES_PER_WORK);
        work += closeIdle();
        return work;
    }

    public Action onMessage(final int msgTypeId, final MutableDirectBuffer buffer, final int index, final int length)
    {
        final int streamId = buffer.getInt(index + STREAM_ID_OFFSET);
        final int channelLength = buffer.getInt(index + CHANNEL_LENGTH_OFFSET);
        final String channel = buffer.getStringWithoutLengthAscii(index + CHANNEL_OFFSET, channelLength);
        final int messageOffset = index + CHANNEL_OFFSET + channelLength;
        final int messageLength = length - CHANNEL_OFFSET - channelLength;

        final String key = streamId + " " + channel;
        ReplyPublication target = publicationsByKey.get(key);
        if (target == null)
        {
            if (publications.size() >= MAX_PUBLICATIONS && !closeLeastRecentlyActiveIdle() && !closeLongestUnconnected())
            {
                return Action.ABORT;
            }
            try
            {
                target = new ReplyPublication(key, aeron.addExclusivePublication(channel, streamId), nowNs);
            }
            catch (final RuntimeException ex)
            {
                errorLog.record("control: cannot reply to " + channel + ": " + ex.getMessage());
                return Action.CONTINUE;
            }
            publicationsByKey.put(key, target);
            publications.add(target);
        }

        target.lastActiveNs = nowNs;
        if (target.waiting.isEmpty() && target.offer(buffer, messageOffset, messageLength))
        {
            return Action.CONTINUE;
        }
        if (target.waiting.isEmpty())
        {
            target.waitingSinceNs = nowNs;
        }
        if (!target.waiting.append(buffer, messageOffset, messageLength))
        {
            drop();
        }
        return Action.CONTINUE;
    }

    public void onClose()
    {
        for (int i = 0; i < publications.size(); i++)
        {
            CloseHelper.quietClose(publications.get(i).publication);
        }
        publications.clear();
        publicationsByKey.clear();
    }

    private int sendWaiting()
    {
        int sent = 0;
        for (int i = publications.size() - 1; i >= 0; i--)
        {
            final ReplyPublication target = publications.get(i);
            if (target.waiting.isEmpty())
            {
                continue;
            }
            draining = target;
            final int consumed = target.waiting.consume(offerWaiting, Integer.MAX_VALUE);
            draining = null;
            if (consumed > 0)
            {
                sent++;
                target.lastActiveNs = nowNs;
                target.waitingSinceNs = nowNs;
            }
            else if (nowNs - target.waitingSinceNs > replyTimeoutNs)
            {
                errorLog.record("client at " + target.publication.channel() + " stream " +
                    target.publication.streamId() + " did not connect to receive a reply");
                target.waiting.reset(0);
                close(i);
            }
        }
        return sent;
    }

    private int closeIdle()
    {
        int closed = 0;
        for (int i = publications.size() - 1; i >= 0; i--)
        {
            final ReplyPublication target = publications.get(i);
            if (target.waiting.isEmpty() && nowNs - target.lastActiveNs > replyTimeoutNs)
            {
                close(i);
                closed++;
            }
        }
        return closed;
    }

    private boolean closeLeastRecentlyActiveIdle()
    {
        int oldest = -1;
        for (int i = 0; i < publications.size(); i++)
        {
            final ReplyPublication target = publications.get(i);
            if (target.waiting.isEmpty() && (oldest < 0 || target.lastActiveNs < publications.get(oldest).lastActiveNs))
            {
                oldest = i;
            }
        }
        if (oldest >= 0)
        {
            close(oldest);
        }
        return oldest >= 0;
    }

    /**
     * Make room for a new client by giving up on the one that has waited longest, past {@link
     * #CONNECT_GRACE_NS}, without ever connecting: a client that asked connects within milliseconds, so one that
     * has not is most likely a stranger naming a channel nobody listens on, who must not hold up everyone else.
     */
    private boolean closeLongestUnconnected()
    {
        int longest = -1;
        for (int i = 0; i < publications.size(); i++)
        {
            final ReplyPublication target = publications.get(i);
            if (!target.publication.isConnected() && nowNs - target.waitingSinceNs > CONNECT_GRACE_NS &&
                (longest < 0 || target.waitingSinceNs < publications.get(longest).waitingSinceNs))
            {
                longest = i;
            }
        }
        if (longest >= 0)
        {
            final ReplyPublication target = publications.get(longest);
            errorLog.record("client at " + target.publication.channel() + " stream " + target.publication.streamId() +
                " did not connect to receive a reply; given up for a newer one");
            target.waiting.reset(0);
            drop();
            close(longest);
        }
        return longest >= 0;
    }

    private void close(final int index)
    {
        final ReplyPublication target = publications.remove(index);
        publicationsByKey.remove(target.key);
        CloseHelper.quietClose(target.publication);
    }

    private void drop()
    {
        dropped.increment();
        errorLog.record(DROPPED_MESSAGE);
    }
}
