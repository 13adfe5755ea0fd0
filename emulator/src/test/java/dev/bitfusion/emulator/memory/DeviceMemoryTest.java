package dev.bitfusion.emulator.memory;

import org.agrona.UnsafeApi;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class DeviceMemoryTest
{
    private final DeviceAddressSpace space = new DeviceAddressSpace();

    @Test
    void shouldHandOutAlignedZeroedMemoryAtRealisticAddresses()
    {
        try (DeviceMemory memory = new DeviceMemory(space, 1 << 20))
        {
            final long a = memory.allocate(100);
            final long b = memory.allocate(100);
            assertTrue(a >= DeviceAddressSpace.BASE_ADDRESS);
            assertEquals(0, a % DeviceAddressSpace.ALIGNMENT);
            assertEquals(0, b % DeviceAddressSpace.ALIGNMENT);
            assertTrue(b >= a + 100);
            assertEquals(0, UnsafeApi.getLong(memory.hostAddress(a, 8)));
        }
    }

    @Test
    void shouldResolveOnlyRangesInsideOneAllocation()
    {
        try (DeviceMemory memory = new DeviceMemory(space, 1 << 20))
        {
            final long a = memory.allocate(100);
            assertNotEquals(0, memory.hostAddress(a, 100));
            assertNotEquals(0, memory.hostAddress(a + 99, 1));
            assertEquals(0, memory.hostAddress(a + 99, 2));
            assertEquals(0, memory.hostAddress(a - 1, 1));
            assertEquals(0, memory.hostAddress(a + 100, 0));
            assertEquals(0, memory.hostAddress(a, -1));
            assertEquals(a, memory.allocationStart(a + 50));
            assertEquals(100, memory.allocationSize(a));
        }
    }

    @Test
    void shouldKeepTenantsApartInOneAddressSpace()
    {
        try (DeviceMemory one = new DeviceMemory(space, 1 << 20); DeviceMemory two = new DeviceMemory(space, 1 << 20))
        {
            final long a = one.allocate(4096);
            final long b = two.allocate(4096);
            assertNotEquals(a, b);
            assertEquals(0, two.hostAddress(a, 1));
            assertFalse(two.free(a));
            assertTrue(one.free(a));
            assertFalse(one.free(a));
        }
    }

    @Test
    void shouldGiveEachGpuOfAServerItsOwnAddressesAsUnifiedAddressingDoes()
    {
        final DeviceAddressSpace gpu0 = new DeviceAddressSpace(0);
        final DeviceAddressSpace gpu1 = new DeviceAddressSpace(1);
        final long bytes = 1L << 37;
        final long first0 = gpu0.reserve(bytes);
        final long first1 = gpu1.reserve(bytes);
        final long second0 = gpu0.reserve(bytes);

        assertEquals(DeviceAddressSpace.BASE_ADDRESS, first0);
        assertTrue(first1 + 2 * bytes <= first0, "GPU 1's space lies below GPU 0's");
        assertTrue(second0 + bytes <= 1L << 47, "user-space addresses");
        assertEquals(0, gpu1.reserve(2 * bytes), "a GPU's space is bounded, never running into the next");
    }

    @Test
    void shouldGiveTheSameGpuOfTwoServersDifferentAddressesWhenTheirShiftsDiffer()
    {
        final DeviceAddressSpace serverA = new DeviceAddressSpace(0, 0);
        final DeviceAddressSpace serverB = new DeviceAddressSpace(0, 5 * DeviceAddressSpace.SHIFT_ALIGNMENT);

        final long a = serverA.reserve(1 << 20);
        final long b = serverB.reserve(1 << 20);

        assertEquals(DeviceAddressSpace.BASE_ADDRESS, a);
        assertEquals(DeviceAddressSpace.BASE_ADDRESS - 5 * DeviceAddressSpace.SHIFT_ALIGNMENT, b);
    }

    @Test
    void shouldKeepARandomShiftOfEveryServerSizeInRange()
    {
        final Random random = new Random(42);
        for (final int gpuCount : new int[]{ 1, 2, 8, 501 })
        {
            for (int i = 0; i < 1000; i++)
            {
                final long shift = DeviceAddressSpace.randomShiftBytes(gpuCount, random);
                assertEquals(0, shift % DeviceAddressSpace.SHIFT_ALIGNMENT);
                // Constructing the server's lowest space checks that it stays above the programs' own memory.
                final long lowest = new DeviceAddressSpace(gpuCount - 1, shift).reserve(1);
                assertTrue(lowest >= 1L << 40, "GPU " + (gpuCount - 1) + " at " + Long.toHexString(lowest));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new DeviceAddressSpace(500, DeviceAddressSpace.SHIFT_ALIGNMENT << 12));
        assertThrows(IllegalArgumentException.class, () -> new DeviceAddressSpace(0, 512));
    }

    @Test
    void shouldEnforceTheQuotaAndReuseFreedSpace()
    {
        try (DeviceMemory memory = new DeviceMemory(space, 1000))
        {
            final long a = memory.allocate(600);
            assertEquals(0, memory.allocate(401));
            assertNotEquals(0, memory.allocate(400));
            assertEquals(1000, memory.usedBytes());
            assertTrue(memory.free(a));
            assertEquals(a, memory.allocate(600), "the freed range is reused");
            assertEquals(1000, memory.freeAll());
            assertEquals(0, memory.usedBytes());
            assertEquals(0, memory.allocationCount());
        }
    }
}
