package dev.bitfusion.agent;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * Where the reply to one thread's outstanding call lands. Each calling thread owns one slot, so a reply
 * is routed by the slot index carried in its correlation id, with no map and no allocation.
 * <p>
 * Thread safety: the owning thread writes the request fields and reads the results after {@link #done}
 * turns true; the receiving thread writes the results and then sets {@link #done} (a volatile write that
 * publishes them).
 */
final class CallSlot
{
    final int index;
    final ThreadRequestState requestState = new ThreadRequestState();
    volatile long expectedCorrelationId = -1;
    volatile boolean done;
    int result;
    long value1;
    long value2;
    String message;

    /** Destination of a device-to-host copy: host memory (address) or an array wrapped in the buffer. */
    final UnsafeBuffer copyDestination = new UnsafeBuffer(0, 0);
    long copyBytes;
    long copyReceivedBytes;

    int parameterBufferSize;
    int parameterCount;
    int[] parameterOffsets = new int[16];
    int[] parameterSizes = new int[16];

    private long sequence;

    CallSlot(final int index)
    {
        this.index = index;
    }

    /**
     * Arm the slot for its next call. Everything the receiver reads (a copy's destination and size) must be
     * set before this: the volatile write of the expected id publishes it to the receiving thread.
     *
     * @return a new correlation id for this slot's next call, armed to receive its reply.
     */
    long arm()
    {
        done = false;
        message = null;
        copyReceivedBytes = 0;
        final long correlationId = (++sequence << CallSlots.SLOT_BITS) | index;
        expectedCorrelationId = correlationId;
        return correlationId;
    }
}
