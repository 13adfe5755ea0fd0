package dev.bitfusion.emulator.corpus;

import dev.bitfusion.emulator.memory.DeviceMemory;
import org.agrona.concurrent.UnsafeBuffer;

import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Moves test data between Java arrays and one tenant's emulated device memory, as cuMemcpyHtoD and
 * cuMemcpyDtoH would: each array lands in its own allocation, in the device's little-endian layout.
 */
final class DeviceArrays
{
    private final DeviceMemory memory;

    DeviceArrays(final DeviceMemory memory)
    {
        this.memory = memory;
    }

    long allocate(final long bytes)
    {
        final long deviceAddress = memory.allocate(bytes);
        assertNotEquals(0, deviceAddress, "device allocation of " + bytes + " bytes failed");
        return deviceAddress;
    }

    /**
     * @return a view of device memory; it fails the test when the range is not one allocation's.
     */
    UnsafeBuffer view(final long deviceAddress, final long bytes)
    {
        final long hostAddress = memory.hostAddress(deviceAddress, bytes);
        assertNotEquals(0, hostAddress, "device range " + Long.toHexString(deviceAddress) + "+" + bytes + " unmapped");
        return new UnsafeBuffer(hostAddress, Math.toIntExact(bytes));
    }

    long upload(final byte[] values)
    {
        final long deviceAddress = allocate(values.length);
        view(deviceAddress, values.length).putBytes(0, values);
        return deviceAddress;
    }

    long upload(final int[] values)
    {
        final long deviceAddress = allocate(4L * values.length);
        final UnsafeBuffer buffer = view(deviceAddress, 4L * values.length);
        for (int i = 0; i < values.length; i++)
        {
            buffer.putInt(4 * i, values[i]);
        }
        return deviceAddress;
    }

    long upload(final long[] values)
    {
        final long deviceAddress = allocate(8L * values.length);
        final UnsafeBuffer buffer = view(deviceAddress, 8L * values.length);
        for (int i = 0; i < values.length; i++)
        {
            buffer.putLong(8 * i, values[i]);
        }
        return deviceAddress;
    }

    long upload(final float[] values)
    {
        final long deviceAddress = allocate(4L * values.length);
        final UnsafeBuffer buffer = view(deviceAddress, 4L * values.length);
        for (int i = 0; i < values.length; i++)
        {
            buffer.putFloat(4 * i, values[i]);
        }
        return deviceAddress;
    }

    long upload(final double[] values)
    {
        final long deviceAddress = allocate(8L * values.length);
        final UnsafeBuffer buffer = view(deviceAddress, 8L * values.length);
        for (int i = 0; i < values.length; i++)
        {
            buffer.putDouble(8 * i, values[i]);
        }
        return deviceAddress;
    }

    int[] readInts(final long deviceAddress, final int count)
    {
        final UnsafeBuffer buffer = view(deviceAddress, 4L * count);
        final int[] values = new int[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = buffer.getInt(4 * i);
        }
        return values;
    }

    short[] readShorts(final long deviceAddress, final int count)
    {
        final UnsafeBuffer buffer = view(deviceAddress, 2L * count);
        final short[] values = new short[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = buffer.getShort(2 * i);
        }
        return values;
    }

    long[] readLongs(final long deviceAddress, final int count)
    {
        final UnsafeBuffer buffer = view(deviceAddress, 8L * count);
        final long[] values = new long[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = buffer.getLong(8 * i);
        }
        return values;
    }

    float[] readFloats(final long deviceAddress, final int count)
    {
        final UnsafeBuffer buffer = view(deviceAddress, 4L * count);
        final float[] values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = buffer.getFloat(4 * i);
        }
        return values;
    }

    double[] readDoubles(final long deviceAddress, final int count)
    {
        final UnsafeBuffer buffer = view(deviceAddress, 8L * count);
        final double[] values = new double[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = buffer.getDouble(8 * i);
        }
        return values;
    }
}
