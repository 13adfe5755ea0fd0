package dev.bitfusion.server;

import dev.bitfusion.server.backend.GpuDescriptor;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingMillisIdleStrategy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's sessions, its {@link Reservation}s and the slices promised on each of its GPUs: a session that takes a
 * slice reserves it in its GPU's ledger and holds it as a reservation of its own, a session opened on a reservation
 * attaches to it, listings read all three, and a session removes itself once it has freed all it held. When a
 * reservation's holder goes, its other sessions are ended, and the slice returns to the ledger after the last of them.
 * <p>
 * Thread safety: thread safe; the control thread adds, session threads remove, any thread reads.
 */
final class SessionRegistry
{
    private final Map<Long, ClientSession> sessions = new ConcurrentHashMap<>();
    private final Map<Long, Reservation> reservations = new ConcurrentHashMap<>();
    private final List<SliceLedger> ledgers = new ArrayList<>();
    private final AtomicLong nextSessionId = new AtomicLong(1);
    private final WaitLine waitLine = new WaitLine();

    /** Why the sessions of a reservation end when its holder goes. */
    static final String RESERVATION_ENDED = "the job's reservation ended: its holder (bitfusion run, request_gpus, " +
        "the first session) is gone or released it";

    /**
     * @param gpus the server's GPUs, a ledger of slices for each.
     */
    SessionRegistry(final List<GpuDescriptor> gpus)
    {
        for (final GpuDescriptor gpu : gpus)
        {
            ledgers.add(new SliceLedger(gpu.totalBytes()));
        }
    }

    /**
     * @return the clients waiting for room; the control thread only.
     */
    WaitLine waitLine()
    {
        return waitLine;
    }

    /**
     * @param sliceBytes a slice, or 0 for a fraction of a GPU (which fits any).
     * @return true when some GPU of this server could hold it once empty.
     */
    boolean couldEverHold(final long sliceBytes)
    {
        return ledgers.stream().anyMatch(ledger -> ledger.totalBytes() >= sliceBytes);
    }

    long nextSessionId()
    {
        return nextSessionId.getAndIncrement();
    }

    SliceLedger ledger(final int gpuIndex)
    {
        return ledgers.get(gpuIndex);
    }

    /**
     * Take a slice for a session that opens without a reservation: it becomes the holder of a new one.
     *
     * @param sessionId the session, whose id names the reservation.
     * @return the reservation, or null when the slice does not fit in what the GPU has unreserved.
     */
    Reservation reserve(final long sessionId, final int gpuIndex, final long sliceBytes, final String clientId)
    {
        if (!ledgers.get(gpuIndex).reserve(sessionId, sliceBytes))
        {
            return null;
        }
        final Reservation reservation = new Reservation(sessionId, gpuIndex, sliceBytes, clientId);
        reservations.put(sessionId, reservation);
        return reservation;
    }

    /**
     * @return the reservation of that id, or null when there is none (never was, or ended and freed).
     */
    Reservation reservation(final long reservationId)
    {
        return reservations.get(reservationId);
    }

    Collection<Reservation> reservations()
    {
        return reservations.values();
    }

    /**
     * @param session a session just started on its reservation, whose traffic counts for it from now on; when the
     *                reservation ended meanwhile (its holder went while the session opened), the session is asked to
     *                end at once.
     */
    void add(final ClientSession session, final Reservation reservation)
    {
        sessions.put(session.sessionId(), session);
        reservation.count(session.sessionId(), session);
        if (reservation.hasEnded())
        {
            session.requestClose(RESERVATION_ENDED);
        }
    }

    /**
     * @param session a session that has ended and freed what it held. When it held its reservation, the sessions
     *                attached to it end too; the slice returns to its GPU once the last of them is gone.
     */
    void remove(final ClientSession session, final Reservation reservation)
    {
        for (final long attached : reservation.leave(session.sessionId()))
        {
            final ClientSession other = sessions.get(attached);
            if (other != null)
            {
                other.requestClose(RESERVATION_ENDED);
            }
        }
        if (reservation.isDone())
        {
            reservations.remove(reservation.id());
            ledgers.get(reservation.gpuIndex()).release(reservation.id());
        }
        // Last: whoever sees the session gone sees its slice returned too.
        sessions.remove(session.sessionId());
    }

    /**
     * Undo {@link #reserve} or an attach for a session that failed to start.
     */
    void abandon(final long sessionId, final Reservation reservation)
    {
        reservation.leave(sessionId);
        if (reservation.isDone())
        {
            reservations.remove(reservation.id());
            ledgers.get(reservation.gpuIndex()).release(reservation.id());
        }
    }

    int size()
    {
        return sessions.size();
    }

    Collection<ClientSession> sessions()
    {
        return sessions.values();
    }

    /**
     * @return the reservations on one GPU, oldest first.
     */
    List<Reservation> reservationsOn(final int gpuIndex)
    {
        return reservations.values().stream()
            .filter(reservation -> reservation.gpuIndex() == gpuIndex)
            .sorted(java.util.Comparator.comparingLong(Reservation::id))
            .toList();
    }

    /**
     * @return bytes all tenants hold on all GPUs.
     */
    long allocatedBytes()
    {
        long total = 0;
        for (final ClientSession session : sessions.values())
        {
            total += session.allocatedBytes();
        }
        return total;
    }

    /**
     * Ask every session to end, and wait for them to have freed what they held.
     *
     * @param timeoutNs how long to wait; a session stuck in a driver call is left behind.
     */
    void closeAll(final long timeoutNs)
    {
        for (final ClientSession session : sessions.values())
        {
            session.requestClose();
        }
        final IdleStrategy idleStrategy = new SleepingMillisIdleStrategy(1);
        final long deadlineNs = System.nanoTime() + timeoutNs;
        while (!sessions.isEmpty() && System.nanoTime() < deadlineNs)
        {
            idleStrategy.idle();
        }
    }
}
