package dev.bitfusion.server;

import dev.bitfusion.server.backend.SliceBudget;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A slice of one GPU held for a job. The session that took the slice is its holder ({@code bitfusion run}, the
 * holder of {@code bitfusion request_gpus}, a Java agent's own session); the sessions of the job's processes attach to
 * it with its key and draw on its {@link SliceBudget}, so a job never takes fresh capacity for its second process
 * and nothing another job does can take what this one was promised.
 * <p>
 * Life: it begins with its holder's session; when the holder's session ends (closed, or its client gone), every
 * session attached to it is ended too, and its slice returns to the GPU's ledger only once the last of them has
 * freed what it held, so the GPU is never promised twice.
 * <p>
 * Traffic: its calls and bytes are those of every session it has had, the running ones read live and the ended ones
 * as they stood when they left, so two listings a second apart give the job's rate even when a process ended between.
 * <p>
 * Thread safety: thread safe; the control thread attaches, session threads leave.
 */
final class Reservation
{
    private static final SecureRandom KEYS = new SecureRandom();

    private final long id;
    private final int gpuIndex;
    private final String holderClientId;
    private final long startedAtMs;
    private final byte[] key = new byte[dev.bitfusion.transport.protocol.SessionOpenEncoder.reservationKeyLength()];
    private final SliceBudget budget;
    /** The sessions attached, the holder's included, with their traffic once they run (null before). */
    private final Map<Long, SessionTraffic> members = new LinkedHashMap<>();
    private long endedCalls;
    private long endedBytes;
    private boolean ended;

    /**
     * @param id             the holder's session id, which names the reservation.
     * @param holderClientId who holds it, for listings.
     */
    Reservation(final long id, final int gpuIndex, final long sliceBytes, final String holderClientId)
    {
        this.id = id;
        this.gpuIndex = gpuIndex;
        this.holderClientId = holderClientId;
        this.startedAtMs = System.currentTimeMillis();
        this.budget = new SliceBudget(sliceBytes);
        KEYS.nextBytes(key);
        members.put(id, null);
    }

    long id()
    {
        return id;
    }

    int gpuIndex()
    {
        return gpuIndex;
    }

    String holderClientId()
    {
        return holderClientId;
    }

    long startedAtMs()
    {
        return startedAtMs;
    }

    SliceBudget budget()
    {
        return budget;
    }

    /**
     * @return the key, for the holder's open reply only.
     */
    byte[] key()
    {
        return key.clone();
    }

    /**
     * @param shown what a session opening on this reservation showed.
     * @return true when it is the key, compared in constant time.
     */
    boolean isKey(final byte[] shown)
    {
        return MessageDigest.isEqual(key, shown);
    }

    /**
     * @param sessionId a session opening on this reservation.
     * @return true when it is now attached; false once the reservation has ended.
     */
    synchronized boolean attach(final long sessionId)
    {
        if (ended)
        {
            return false;
        }
        members.put(sessionId, null);
        return true;
    }

    /**
     * @param sessionId a session of this reservation that has started.
     * @param traffic   its calls and bytes, which count for the reservation from now on.
     */
    synchronized void count(final long sessionId, final SessionTraffic traffic)
    {
        if (members.containsKey(sessionId))
        {
            members.put(sessionId, traffic);
        }
    }

    /**
     * @return calls executed by all its sessions so far, those that left included.
     */
    synchronized long calls()
    {
        long calls = endedCalls;
        for (final SessionTraffic traffic : members.values())
        {
            calls += traffic != null ? traffic.calls() : 0;
        }
        return calls;
    }

    /**
     * @return bytes of requests and replies of all its sessions so far, those that left included.
     */
    synchronized long bytes()
    {
        long bytes = endedBytes;
        for (final SessionTraffic traffic : members.values())
        {
            bytes += traffic != null ? traffic.bytes() : 0;
        }
        return bytes;
    }

    /**
     * @return true once the holder's session has ended: sessions attached then must end too.
     */
    synchronized boolean hasEnded()
    {
        return ended;
    }

    /**
     * @return how many sessions are attached, the holder's included.
     */
    synchronized int sessionCount()
    {
        return members.size();
    }

    /**
     * A session of the reservation has ended and freed what it held.
     *
     * @param sessionId the session.
     * @return the sessions still attached that must now end, because the holder just ended: empty otherwise.
     */
    synchronized List<Long> leave(final long sessionId)
    {
        final SessionTraffic traffic = members.remove(sessionId);
        if (traffic != null)
        {
            // Taken in the same step as the member goes, so no listing counts the session twice or not at all.
            endedCalls += traffic.calls();
            endedBytes += traffic.bytes();
        }
        if (sessionId == id && !ended)
        {
            ended = true;
            return new ArrayList<>(members.keySet());
        }
        return List.of();
    }

    /**
     * @return true when the holder has ended and every session has left: the slice may return to the GPU.
     */
    synchronized boolean isDone()
    {
        return ended && members.isEmpty();
    }
}
