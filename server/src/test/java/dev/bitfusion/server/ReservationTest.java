package dev.bitfusion.server;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReservationTest
{
    private static final long HOLDER = 7;

    private final Reservation reservation = new Reservation(HOLDER, 0, 1000, "holder");

    @Test
    void shouldEndTheAttachedSessionsWhenTheHolderLeavesAndBeDoneAfterTheLast()
    {
        assertTrue(reservation.attach(8));
        assertTrue(reservation.attach(9));
        assertEquals(3, reservation.sessionCount());

        assertEquals(List.of(), reservation.leave(8), "a member leaving ends nothing");
        assertFalse(reservation.hasEnded());

        assertEquals(List.of(9L), reservation.leave(HOLDER), "the holder leaving ends the members still attached");
        assertTrue(reservation.hasEnded());
        assertFalse(reservation.isDone(), "a member still holds memory of the slice");

        reservation.leave(9);
        assertTrue(reservation.isDone());
    }

    @Test
    void shouldCountTheTrafficOfEverySessionItHadThoseThatLeftIncluded()
    {
        final Traffic holder = new Traffic(1, 100);
        final Traffic member = new Traffic(10, 1000);
        reservation.count(HOLDER, holder);
        assertTrue(reservation.attach(8));
        assertEquals(1, reservation.calls(), "a member that has not started yet counts nothing");
        reservation.count(8, member);
        member.calls = 20;
        member.bytes = 3000;
        assertEquals(21, reservation.calls());
        assertEquals(3100, reservation.bytes());

        reservation.leave(8);
        member.calls = 999; // what a closed session's counters might read: no longer counted
        holder.calls = 2;

        assertEquals(22, reservation.calls(), "the member's part stays as it stood when it left");
        assertEquals(3100, reservation.bytes());
        assertEquals(1, reservation.sessionCount());
    }

    @Test
    void shouldNotCountASessionThatIsNotAttached()
    {
        reservation.count(99, new Traffic(5, 5));

        assertEquals(0, reservation.calls());
        assertEquals(1, reservation.sessionCount());
    }

    @Test
    void shouldRefuseToAttachOnceTheHolderLeft()
    {
        reservation.leave(HOLDER);

        assertFalse(reservation.attach(8));
        assertTrue(reservation.isDone());
    }

    @Test
    void shouldKnowOnlyItsOwnKey()
    {
        final byte[] key = reservation.key();
        assertTrue(reservation.isKey(key));
        key[15] ^= 1;
        assertFalse(reservation.isKey(key));
        assertFalse(reservation.isKey(new byte[16]));
        assertFalse(new Reservation(HOLDER, 0, 1000, "other").isKey(reservation.key()), "each reservation has its own");
    }

    /** A session's traffic as a test sets it. */
    private static final class Traffic implements SessionTraffic
    {
        long calls;
        long bytes;

        Traffic(final long calls, final long bytes)
        {
            this.calls = calls;
            this.bytes = bytes;
        }

        public long calls()
        {
            return calls;
        }

        public long bytes()
        {
            return bytes;
        }
    }
}
