package dev.bitfusion.server.backend;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The device memory of one reservation: its slice, and what the sessions attached to it hold together. Every
 * process of one job (the children of {@code bitfusion run}, the commands of {@code bitfusion client}) has a session
 * of its own, each with its own {@link TenantMemory}, and all of them draw on one budget: their allocations together
 * never pass the slice.
 * <p>
 * Thread safety: thread safe and lock-free; the sessions of one reservation run on threads of their own.
 */
public final class SliceBudget
{
    private final long sliceBytes;
    private final AtomicLong heldBytes = new AtomicLong();

    /**
     * @param sliceBytes the most the reservation's sessions may hold together.
     */
    public SliceBudget(final long sliceBytes)
    {
        this.sliceBytes = sliceBytes;
    }

    public long sliceBytes()
    {
        return sliceBytes;
    }

    /**
     * @return what the reservation's sessions hold now.
     */
    public long heldBytes()
    {
        return heldBytes.get();
    }

    /**
     * @param bytes a positive size.
     * @return true when it fits in what is left of the slice, and is now held; false leaves the budget as it was.
     */
    public boolean tryTake(final long bytes)
    {
        long held;
        do
        {
            held = heldBytes.get();
            if (bytes > sliceBytes - held)
            {
                return false;
            }
        }
        while (!heldBytes.compareAndSet(held, held + bytes));
        return true;
    }

    /**
     * Hold bytes the slice must carry whatever is left, such as a module's globals on the emulated GPU: the
     * reservation's next allocations are refused until they are given back.
     *
     * @param bytes what is held now.
     */
    public void take(final long bytes)
    {
        heldBytes.addAndGet(bytes);
    }

    /**
     * @param bytes what a session no longer holds.
     */
    public void give(final long bytes)
    {
        heldBytes.addAndGet(-bytes);
    }
}
