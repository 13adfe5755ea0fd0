package dev.bitfusion.agent.driver;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class HostMappingsTest
{
    private static final long HOST = 0x5555_0000_1000L;
    private static final long DEVICE = 0x7f00_0000_0000L;

    @Test
    void shouldTranslateAddressesInsideAMappedRangeOnly()
    {
        final HostMappings mappings = new HostMappings(value -> false);
        assertTrue(mappings.isEmpty());
        mappings.add(HOST, 4096, DEVICE);

        assertFalse(mappings.isEmpty());
        assertEquals(DEVICE, mappings.translate(HOST));
        assertEquals(DEVICE + 4095, mappings.translate(HOST + 4095));
        assertEquals(HOST + 4096, mappings.translate(HOST + 4096), "one past the end");
        assertEquals(HOST - 1, mappings.translate(HOST - 1), "one before the start");
        assertEquals(42, mappings.translate(42));
    }

    @Test
    void shouldLeaveTheProgramsDeviceAddressesAloneWhereTheyCoincideWithHostOnes()
    {
        final HostMappings mappings = new HostMappings(value -> value == HOST + 16);
        mappings.add(HOST, 4096, DEVICE);

        assertEquals(HOST + 16, mappings.translate(HOST + 16));
        assertEquals(DEVICE + 8, mappings.translate(HOST + 8));
    }

    @Test
    void shouldForgetARemovedRangeAndKeepTheOthers()
    {
        final HostMappings mappings = new HostMappings(value -> false);
        mappings.add(HOST, 64, DEVICE);
        mappings.add(HOST + 8192, 64, DEVICE + 8192);
        mappings.remove(HOST);

        assertEquals(HOST, mappings.translate(HOST));
        assertEquals(DEVICE + 8192 + 4, mappings.translate(HOST + 8192 + 4));
        mappings.remove(HOST + 8192);
        assertTrue(mappings.isEmpty());
    }
}
