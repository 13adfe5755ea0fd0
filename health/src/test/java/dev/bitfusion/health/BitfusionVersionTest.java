package dev.bitfusion.health;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

class BitfusionVersionTest
{
    @Test
    void shouldReportProjectVersionWhenBuiltByMaven()
    {
        final String version = BitfusionVersion.current();
        assertTrue(version.matches("\\d+\\.\\d+\\.\\d+.*"), version);
    }
}
