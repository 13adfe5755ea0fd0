package dev.bitfusion.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TransportSettingsTest
{
    @Test
    void shouldRequireADirectory()
    {
        assertThrows(IllegalStateException.class, () -> new TransportSettings().conclude());
    }

    @Test
    void shouldRejectTermLengthsThatAreNotPowersOfTwo()
    {
        final TransportSettings settings = new TransportSettings().aeronDirectoryName("/tmp/x").termLength(100_000);
        assertThrows(IllegalArgumentException.class, settings::conclude);
    }

    @Test
    void shouldRejectLivenessTimeoutsTooShortToSurviveAPause()
    {
        final TransportSettings settings = new TransportSettings().aeronDirectoryName("/tmp/x").livenessTimeoutNs(1000);
        assertThrows(IllegalArgumentException.class, settings::conclude);
    }

    @Test
    void shouldTakeTheLivenessTimeoutAsPeerTimeoutUnlessAShorterOneIsSet()
    {
        final TransportSettings unset = new TransportSettings().aeronDirectoryName("/tmp/x").conclude();
        assertEquals(unset.livenessTimeoutNs(), unset.peerTimeoutNs());

        final TransportSettings shorter = new TransportSettings().aeronDirectoryName("/tmp/x").peerTimeoutNs(1_500_000_000L);
        assertTrue(shorter.hasPeerTimeout());
        assertEquals(1_500_000_000L, shorter.conclude().peerTimeoutNs());

        final TransportSettings tooShort = new TransportSettings().aeronDirectoryName("/tmp/x").peerTimeoutNs(1000);
        assertThrows(IllegalArgumentException.class, tooShort::conclude);
    }

    @Test
    void shouldUseTheLargestMtuOnLoopbackAndAeronsDefaultElsewhere()
    {
        final TransportSettings settings = new TransportSettings();
        assertEquals(TransportSettings.LOOPBACK_MTU, settings.udpMtuFor("127.0.0.1"));
        assertEquals(TransportSettings.UDP_MTU_DEFAULT, settings.udpMtuFor("192.0.2.10"));
    }

    @Test
    void shouldBuildChannelsBothEndsAgreeOn()
    {
        final TransportSettings settings = new TransportSettings().aeronDirectoryName("/tmp/x").conclude();
        final String udp = ChannelUris.udp(new Endpoint("127.0.0.1", 56001), settings);
        assertTrue(udp.startsWith("aeron:udp?"), udp);
        assertTrue(udp.contains("endpoint=127.0.0.1:56001"), udp);
        assertTrue(ChannelUris.isIpc(ChannelUris.ipc(settings)));
        assertFalse(ChannelUris.isIpc(udp));
    }
}
