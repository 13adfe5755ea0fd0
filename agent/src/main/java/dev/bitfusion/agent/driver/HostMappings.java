package dev.bitfusion.agent.driver;

import java.util.Arrays;
import java.util.function.LongPredicate;

/**
 * Mapped host memory and the device copy that stands for it on the remote GPU. Under unified addressing
 * a program may hand a kernel the host address of mapped memory itself, without asking for its device
 * pointer; the server cannot reach client memory, so launch parameters that hold such an address are
 * rewritten to the device copy's.
 * <p>
 * A server's device addresses and this process's host addresses can coincide, so a value that is one of
 * this program's device allocations is never rewritten.
 * <p>
 * Thread safety: changes are serialised; {@link #translate} reads a consistent snapshot without locking.
 */
final class HostMappings
{
    private static final long[] NONE = new long[0];

    private final LongPredicate isDeviceAddress;
    /** Triples of host base, length in bytes and device base. */
    private volatile long[] ranges = NONE;

    /**
     * @param isDeviceAddress whether a value lies in one of the program's device allocations.
     */
    HostMappings(final LongPredicate isDeviceAddress)
    {
        this.isDeviceAddress = isDeviceAddress;
    }

    synchronized void add(final long hostBase, final long bytes, final long deviceBase)
    {
        final long[] current = ranges;
        final long[] updated = Arrays.copyOf(current, current.length + 3);
        updated[current.length] = hostBase;
        updated[current.length + 1] = bytes;
        updated[current.length + 2] = deviceBase;
        ranges = updated;
    }

    synchronized void remove(final long hostBase)
    {
        final long[] current = ranges;
        for (int i = 0; i < current.length; i += 3)
        {
            if (current[i] == hostBase)
            {
                final long[] updated = new long[current.length - 3];
                System.arraycopy(current, 0, updated, 0, i);
                System.arraycopy(current, i + 3, updated, i, current.length - i - 3);
                ranges = updated;
                return;
            }
        }
    }

    boolean isEmpty()
    {
        return ranges.length == 0;
    }

    /**
     * @return the device address standing for a host address inside mapped memory, else the value itself.
     */
    long translate(final long value)
    {
        final long[] current = ranges;
        for (int i = 0; i < current.length; i += 3)
        {
            final long offset = value - current[i];
            if (Long.compareUnsigned(offset, current[i + 1]) < 0)
            {
                return isDeviceAddress.test(value) ? value : current[i + 2] + offset;
            }
        }
        return value;
    }
}
