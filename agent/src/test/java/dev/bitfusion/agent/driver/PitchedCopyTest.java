package dev.bitfusion.agent.driver;

import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PitchedCopyTest
{
    private static final int HOST = 1;
    private static final int DEVICE = 2;
    private static final int ARRAY = 3;
    private static final int UNIFIED = 4;

    private final DeviceAllocations allocations = new DeviceAllocations();

    @Test
    void shouldCopyA2DRegionRowByRowFromTheOffsetsEachSideNames()
    {
        try (NativeBuffer descriptor = NativeBuffer.allocate(128))
        {
            side(descriptor, 0, HOST, 0x1000, 0, 8, 2, 256);
            side(descriptor, 56, DEVICE, 0, 0x9000_0000L, 4, 1, 512);
            shape(descriptor, 100, 37);

            final PitchedCopy copy = PitchedCopy.of2D(descriptor.address(), allocations);

            assertTrue(copy.isValid());
            assertFalse(copy.srcIsDevice());
            assertTrue(copy.dstIsDevice());
            assertEquals(37, copy.pieces());
            assertEquals(100, copy.pieceBytes());
            assertEquals(0x1000 + 2 * 256 + 8, copy.srcPiece(0));
            assertEquals(0x9000_0000L + 512 + 4 + 3 * 512, copy.dstPiece(3));
        }
    }

    @Test
    void shouldCopyContiguous2DRowsAsOneBlockAndResolveUnifiedAddresses()
    {
        allocations.add(0x9000_0000L, 1 << 20, 0);
        try (NativeBuffer descriptor = NativeBuffer.allocate(128))
        {
            side(descriptor, 0, UNIFIED, 0, 0x9000_0000L, 0, 0, 64);
            side(descriptor, 56, UNIFIED, 0, 0x7000_0000L, 0, 0, 64);
            shape(descriptor, 64, 10);

            final PitchedCopy copy = PitchedCopy.of2D(descriptor.address(), allocations);

            assertTrue(copy.srcIsDevice());
            assertFalse(copy.dstIsDevice());
            assertEquals(1, copy.pieces());
            assertEquals(640, copy.pieceBytes());
        }
    }

    @Test
    void shouldRefuseArraysAndPitchesNarrowerThanTheRows()
    {
        try (NativeBuffer descriptor = NativeBuffer.allocate(128))
        {
            side(descriptor, 0, ARRAY, 0, 0, 0, 0, 0);
            side(descriptor, 56, DEVICE, 0, 0x9000_0000L, 0, 0, 512);
            shape(descriptor, 100, 2);
            assertTrue(PitchedCopy.of2D(descriptor.address(), allocations).hasArray());

            side(descriptor, 0, HOST, 0x1000, 0, 0, 0, 50);
            assertFalse(PitchedCopy.of2D(descriptor.address(), allocations).isValid());
        }
    }

    @Test
    void shouldCopyA3DVolumeRowByRowAcrossSlicesOfTheirOwnHeight()
    {
        try (NativeBuffer descriptor = NativeBuffer.allocate(200))
        {
            side3D(descriptor, 0, HOST, 0x10_0000, 0, 4, 1, 2, 160, 30);
            side3D(descriptor, 88, DEVICE, 0, 0x9000_0000L, 0, 0, 0, 512, 23);
            descriptor.putLong(176, 148, ByteOrder.LITTLE_ENDIAN);
            descriptor.putLong(184, 23, ByteOrder.LITTLE_ENDIAN);
            descriptor.putLong(192, 11, ByteOrder.LITTLE_ENDIAN);

            final PitchedCopy copy = PitchedCopy.of3D(descriptor.address(), allocations);

            assertTrue(copy.isValid());
            assertEquals(23 * 11, copy.pieces());
            assertEquals(148, copy.pieceBytes());
            final long hostSlice = 160 * 30;
            assertEquals(0x10_0000 + 2 * hostSlice + 160 + 4, copy.srcPiece(0));
            assertEquals(0x10_0000 + 2 * hostSlice + 160 + 4 + hostSlice + 5 * 160, copy.srcPiece(23 + 5));
            assertEquals(0x9000_0000L + 512 * 23 + 5 * 512, copy.dstPiece(23 + 5));
        }
    }

    @Test
    void shouldCopyA3DVolumeWhoseSlicesAreContiguousASliceAtATimeOrWhole()
    {
        try (NativeBuffer descriptor = NativeBuffer.allocate(200))
        {
            side3D(descriptor, 0, DEVICE, 0, 0x9000_0000L, 0, 0, 0, 64, 10);
            side3D(descriptor, 88, DEVICE, 0, 0xa000_0000L, 0, 0, 0, 64, 12);
            descriptor.putLong(176, 64, ByteOrder.LITTLE_ENDIAN);
            descriptor.putLong(184, 10, ByteOrder.LITTLE_ENDIAN);
            descriptor.putLong(192, 3, ByteOrder.LITTLE_ENDIAN);

            final PitchedCopy bySlice = PitchedCopy.of3D(descriptor.address(), allocations);
            assertEquals(3, bySlice.pieces());
            assertEquals(640, bySlice.pieceBytes());
            assertEquals(0xa000_0000L + 2 * 64 * 12, bySlice.dstPiece(2));

            descriptor.putLong(88 + 80, 10, ByteOrder.LITTLE_ENDIAN);
            final PitchedCopy whole = PitchedCopy.of3D(descriptor.address(), allocations);
            assertEquals(1, whole.pieces());
            assertEquals(64 * 10 * 3, whole.pieceBytes());
        }
    }

    @Test
    void shouldRefuseSlicesShorterThanTheCopysHeight()
    {
        try (NativeBuffer descriptor = NativeBuffer.allocate(200))
        {
            side3D(descriptor, 0, DEVICE, 0, 0x9000_0000L, 0, 0, 0, 64, 5);
            side3D(descriptor, 88, DEVICE, 0, 0xa000_0000L, 0, 0, 0, 64, 10);
            descriptor.putLong(176, 64, ByteOrder.LITTLE_ENDIAN);
            descriptor.putLong(184, 10, ByteOrder.LITTLE_ENDIAN);
            descriptor.putLong(192, 2, ByteOrder.LITTLE_ENDIAN);

            assertFalse(PitchedCopy.of3D(descriptor.address(), allocations).isValid());
        }
    }

    private static void side3D(
        final NativeBuffer descriptor, final int side, final int type, final long host, final long device, final long x,
        final long y, final long z, final long pitch, final long height)
    {
        descriptor.putLong(side, x, ByteOrder.LITTLE_ENDIAN);
        descriptor.putLong(side + 8, y, ByteOrder.LITTLE_ENDIAN);
        descriptor.putLong(side + 16, z, ByteOrder.LITTLE_ENDIAN);
        descriptor.putInt(side + 32, type, ByteOrder.LITTLE_ENDIAN);
        descriptor.putLong(side + 40, host, ByteOrder.LITTLE_ENDIAN);
        descriptor.putLong(side + 48, device, ByteOrder.LITTLE_ENDIAN);
        descriptor.putLong(side + 72, pitch, ByteOrder.LITTLE_ENDIAN);
        descriptor.putLong(side + 80, height, ByteOrder.LITTLE_ENDIAN);
    }

    private static void side(
        final NativeBuffer descriptor, final int side, final int type, final long host, final long device, final long x,
        final long y, final long pitch)
    {
        descriptor.putLong(side, x, ByteOrder.LITTLE_ENDIAN);
        descriptor.putLong(side + 8, y, ByteOrder.LITTLE_ENDIAN);
        descriptor.putInt(side + 16, type, ByteOrder.LITTLE_ENDIAN);
        descriptor.putLong(side + 24, host, ByteOrder.LITTLE_ENDIAN);
        descriptor.putLong(side + 32, device, ByteOrder.LITTLE_ENDIAN);
        descriptor.putLong(side + 48, pitch, ByteOrder.LITTLE_ENDIAN);
    }

    private static void shape(final NativeBuffer descriptor, final long width, final long height)
    {
        descriptor.putLong(112, width, ByteOrder.LITTLE_ENDIAN);
        descriptor.putLong(120, height, ByteOrder.LITTLE_ENDIAN);
    }
}
