package dev.bitfusion.server;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The clients waiting for room on this server, in arrival order: while one waits, a new slice goes only to the
 * first of them, so a stream of small requests never starves a large one, and waiters are served in the order they
 * came. A waiter is in line from its first ticketed request (a ListGpus or SessionOpen with a wait ticket) and stays
 * while it renews that ticket; one not renewed for {@link #LEASE_NS} has given up (its process ended, its timeout
 * passed) and leaves the line.
 * <p>
 * Arrival is the time the client began to wait, by its own clock, then the ticket: the client sends the same pair to
 * every server it waits on, so every server orders two waiters the same way and two jobs each waiting for GPUs on
 * several servers never each hold the other's place. A client's clock is checked by the token's proof (within
 * minutes); a client that claims an earlier time than it began gains only against the waiters of those minutes.
 * <p>
 * The line is bounded ({@link #MAX_WAITERS}): past it a newcomer is told the line is full rather than remembered.
 * <p>
 * Thread safety: not thread safe; the control thread only.
 */
final class WaitLine
{
    /** How long a waiter stays in line without renewing its ticket; clients renew about twice a second. */
    static final long LEASE_NS = TimeUnit.SECONDS.toNanos(3);
    /** The most waiters one server remembers. */
    static final int MAX_WAITERS = 1024;

    private static final Comparator<Waiter> ARRIVAL_ORDER =
        Comparator.comparingLong(Waiter::sinceMs).thenComparingLong(Waiter::ticket);

    private final List<Waiter> waiters = new ArrayList<>();

    private static final class Waiter
    {
        final long ticket;
        final long sinceMs;
        long renewedAtNs;

        Waiter(final long ticket, final long sinceMs, final long renewedAtNs)
        {
            this.ticket = ticket;
            this.sinceMs = sinceMs;
            this.renewedAtNs = renewedAtNs;
        }

        long ticket()
        {
            return ticket;
        }

        long sinceMs()
        {
            return sinceMs;
        }
    }

    /**
     * Put a waiter in line, or keep it there.
     *
     * @param ticket  the client's ticket, not 0.
     * @param sinceMs when it began to wait.
     * @return true when it is in line; false when the line is full.
     */
    boolean renew(final long ticket, final long sinceMs, final long nowNs)
    {
        expire(nowNs);
        for (final Waiter waiter : waiters)
        {
            if (waiter.ticket == ticket)
            {
                waiter.renewedAtNs = nowNs;
                return true;
            }
        }
        if (waiters.size() >= MAX_WAITERS)
        {
            return false;
        }
        final Waiter waiter = new Waiter(ticket, sinceMs, nowNs);
        int at = 0;
        while (at < waiters.size() && ARRIVAL_ORDER.compare(waiters.get(at), waiter) < 0)
        {
            at++;
        }
        waiters.add(at, waiter);
        return true;
    }

    /**
     * @param ticket a waiter's ticket, or 0 for a request that does not wait (it comes after everyone in line).
     * @return how many waiters come before it.
     */
    int ahead(final long ticket, final long nowNs)
    {
        expire(nowNs);
        if (ticket != 0)
        {
            for (int i = 0; i < waiters.size(); i++)
            {
                if (waiters.get(i).ticket == ticket)
                {
                    return i;
                }
            }
        }
        return waiters.size();
    }

    /**
     * @return how many wait.
     */
    int size(final long nowNs)
    {
        expire(nowNs);
        return waiters.size();
    }

    /**
     * @param ticket a waiter that got its slice: it leaves the line.
     */
    void served(final long ticket)
    {
        waiters.removeIf(waiter -> waiter.ticket == ticket);
    }

    private void expire(final long nowNs)
    {
        waiters.removeIf(waiter -> nowNs - waiter.renewedAtNs > LEASE_NS);
    }
}
