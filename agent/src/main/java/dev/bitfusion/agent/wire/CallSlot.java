package dev.bitfusion.agent.wire;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;

/**
 * Where the reply to one thread's outstanding call lands. Each calling thread owns one slot, so a reply
 * is routed by the slot index carried in its correlation id, with no map and no allocation.
 * <p>
 * Thread safety: the owning thread writes the request fields and reads the results after {@link #done}
 * turns true; the receiving thread writes the results and then sets {@link #done} (a volatile write that
 * publishes them).
 */
public final class CallSlot
{
    final int index;
    final RequestEncoders encoders = new RequestEncoders();
    /** How this thread waits for its replies: spin, then yield, then park, as a reply usually takes microseconds. */
    final IdleStrategy awaitIdle = new BackoffIdleStrategy(200, 1800, PARK_NS, PARK_NS);
    /** How this thread waits out back pressure, which usually clears within microseconds. */
    final IdleStrategy sendIdle = new BackoffIdleStrategy(100, 100, PARK_NS, PARK_NS);
    volatile long expectedCorrelationId = -1;
    volatile boolean done;
    int result;
    /**
     * A call answered twice (PeerReceive: once ready, once done): set when armed; the first successful Result then
     * sets {@link #acknowledged} and the slot keeps waiting for the second under the same correlation id.
     */
    volatile boolean awaitsAcknowledgement;
    volatile boolean acknowledged;
    long value1;
    long value2;
    String message;

    /** Destination of a device-to-host copy (or of a tensor map): host memory wrapped by address. */
    final UnsafeBuffer copyDestination = new UnsafeBuffer(0, 0);
    long copyBytes;
    long copyReceivedBytes;

    int parameterBufferSize;
    int parameterCount;
    int[] parameterOffsets = new int[16];
    int[] parameterSizes = new int[16];

    private long sequence;

    private static final long PARK_NS = 50_000;

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
    public long arm()
    {
        done = false;
        message = null;
        copyReceivedBytes = 0;
        awaitsAcknowledgement = false;
        acknowledged = false;
        final long correlationId = (++sequence << CallSlots.SLOT_BITS) | index;
        expectedCorrelationId = correlationId;
        return correlationId;
    }

    /**
     * @return the CUresult the reply carried.
     */
    public int result()
    {
        return result;
    }

    /**
     * @return the reply's first out value (an address, a size, an attribute).
     */
    public long value1()
    {
        return value1;
    }

    /**
     * @return the reply's second out value.
     */
    public long value2()
    {
        return value2;
    }

    /**
     * @return the reason the server gave with its reply, or null.
     */
    public String message()
    {
        return message;
    }

    /**
     * Where the data of this slot's next device-to-host copy goes: set before {@link #arm()}.
     *
     * @param address host memory of at least {@code bytes} bytes.
     * @param bytes   the copy's length.
     */
    public void copyInto(final long address, final long bytes)
    {
        copyDestination.wrap(address, (int)bytes);
        copyBytes = bytes;
    }

    /**
     * @return how many bytes of the last device-to-host copy arrived.
     */
    public long copyReceivedBytes()
    {
        return copyReceivedBytes;
    }

    /**
     * @return the parameter layout of the last function lookup: its buffer size.
     */
    public int parameterBufferSize()
    {
        return parameterBufferSize;
    }

    /**
     * @return the offsets of the last looked-up function's parameters, one per parameter.
     */
    public int[] parameterOffsets()
    {
        return Arrays.copyOf(parameterOffsets, parameterCount);
    }

    /**
     * @return the sizes of the last looked-up function's parameters, one per parameter.
     */
    public int[] parameterSizes()
    {
        return Arrays.copyOf(parameterSizes, parameterCount);
    }
}
