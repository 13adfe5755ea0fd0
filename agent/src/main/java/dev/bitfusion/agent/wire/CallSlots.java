package dev.bitfusion.agent.wire;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The call slots of one connection, one per calling thread, found by the low bits of a correlation id.
 * <p>
 * Thread safety: thread safe; {@link #forCurrentThread()} allocates only on a thread's first call.
 */
final class CallSlots
{
    static final int SLOT_BITS = 16;
    static final int MAX_SLOTS = 1 << SLOT_BITS;
    private static final long SLOT_MASK = MAX_SLOTS - 1;

    private final AtomicReferenceArray<CallSlot> slots = new AtomicReferenceArray<>(MAX_SLOTS);
    private final AtomicInteger nextIndex = new AtomicInteger();
    private final ThreadLocal<CallSlot> threadSlot = ThreadLocal.withInitial(this::newSlot);

    CallSlot forCurrentThread()
    {
        return threadSlot.get();
    }

    /**
     * @param correlationId from a reply.
     * @return the slot waiting for it, or null when no call waits for that id (late or forged reply).
     */
    CallSlot waitingFor(final long correlationId)
    {
        final CallSlot slot = slots.get((int)(correlationId & SLOT_MASK));
        return slot != null && slot.expectedCorrelationId == correlationId ? slot : null;
    }

    /**
     * Wake every waiting thread, as when the server is lost.
     */
    void completeAll(final int result, final String message)
    {
        final int count = Math.min(nextIndex.get(), MAX_SLOTS);
        for (int i = 0; i < count; i++)
        {
            final CallSlot slot = slots.get(i);
            if (slot != null && !slot.done)
            {
                slot.result = result;
                slot.message = message;
                slot.done = true;
            }
        }
    }

    private CallSlot newSlot()
    {
        final int index = nextIndex.getAndIncrement();
        if (index >= MAX_SLOTS)
        {
            throw new IllegalStateException("more than " + MAX_SLOTS + " threads have called the driver");
        }
        final CallSlot slot = new CallSlot(index);
        slots.set(index, slot);
        return slot;
    }
}
