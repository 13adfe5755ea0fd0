package dev.bitfusion.cli;

import dev.bitfusion.transport.Endpoint;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ServerCommandTest
{
    @Test
    void shouldWarnLoudlyWhenReachableFromOtherHostsWithoutAToken()
    {
        final String warning = ServerCommand.exposureWarning(new Endpoint("0.0.0.0", 56001), false);

        assertNotNull(warning);
        assertTrue(warning.contains("WITHOUT A TOKEN"), warning);
        assertTrue(warning.contains("--token-file"), warning);
        assertTrue(warning.contains("BITFUSION_TOKEN"), warning);
    }

    @Test
    void shouldNotWarnWithATokenOrOnLoopback()
    {
        assertNull(ServerCommand.exposureWarning(new Endpoint("0.0.0.0", 56001), true));
        assertNull(ServerCommand.exposureWarning(new Endpoint("127.0.0.1", 56001), false));
        assertNull(ServerCommand.exposureWarning(new Endpoint("localhost", 56001), false));
    }
}
