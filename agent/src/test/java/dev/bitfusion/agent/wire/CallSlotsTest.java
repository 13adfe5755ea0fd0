package dev.bitfusion.agent.wire;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

class CallSlotsTest
{
    @Test
    void shouldRouteARepliesOnlyToTheCallWaitingForIt()
    {
        final CallSlots slots = new CallSlots();
        final CallSlot slot = slots.forCurrentThread();
        final long first = slot.arm();
        assertSame(slot, slots.waitingFor(first));
        final long second = slot.arm();
        assertNotEquals(first, second);
        assertNull(slots.waitingFor(first), "a late reply to an earlier call is dropped");
        assertSame(slot, slots.waitingFor(second));
        assertNull(slots.waitingFor(second + 1), "a forged id finds no slot");
    }

    @Test
    void shouldGiveEachThreadItsOwnSlot() throws Exception
    {
        final CallSlots slots = new CallSlots();
        final CallSlot mine = slots.forCurrentThread();
        final AtomicReference<CallSlot> theirs = new AtomicReference<>();
        final Thread thread = new Thread(() -> theirs.set(slots.forCurrentThread()));
        thread.start();
        thread.join();
        assertNotSame(mine, theirs.get());
        assertSame(mine, slots.forCurrentThread());
    }

    @Test
    void shouldWakeEveryWaiterWhenTheServerIsLost()
    {
        final CallSlots slots = new CallSlots();
        final CallSlot slot = slots.forCurrentThread();
        slot.arm();
        slots.completeAll(46, "lost");
        assertTrue(slot.done);
        assertEquals(46, slot.result);
        assertEquals("lost", slot.message);
    }
}
