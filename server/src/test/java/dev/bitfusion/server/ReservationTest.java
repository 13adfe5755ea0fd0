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
}
