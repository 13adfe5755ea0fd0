package dev.bitfusion.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class EndpointTest
{
    @Test
    void shouldParseHostAndPort()
    {
        assertEquals(new Endpoint("10.0.0.5", 56002), Endpoint.parse(" 10.0.0.5:56002 "));
        assertEquals(new Endpoint("[::1]", 7000), Endpoint.parse("[::1]:7000"));
    }

    @Test
    void shouldUseTheDefaultPortWhenNoneIsGiven()
    {
        assertEquals(new Endpoint("gpu-host", Protocol.DEFAULT_PORT), Endpoint.parse("gpu-host"));
        assertEquals(new Endpoint("[::1]", Protocol.DEFAULT_PORT), Endpoint.parse("[::1]"));
    }

    @Test
    void shouldRejectBadAddressesWithAReason()
    {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("host:http"))
            .getMessage().contains("bad port 'http'"));
        assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("host:0"));
        assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("host:70000"));
        assertThrows(IllegalArgumentException.class, () -> Endpoint.parse(":56001"));
        assertThrows(IllegalArgumentException.class, () -> Endpoint.parse(""));
        assertThrows(IllegalArgumentException.class, () -> Endpoint.parse(null));
    }

    @Test
    void shouldTellLoopbackHosts()
    {
        assertTrue(Endpoint.isLoopback("127.0.0.1"));
        assertTrue(Endpoint.isLoopback("localhost"));
        assertFalse(Endpoint.isLoopback("192.0.2.1"));
        assertFalse(Endpoint.isLoopback("no-such-host.invalid"));
    }
}
