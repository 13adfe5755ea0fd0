package dev.bitfusion.agent.pool;

import dev.bitfusion.transport.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GpuFilterTest
{
    private static final Endpoint SERVER = new Endpoint("10.117.32.177", 56001);
    private static final GpuPoolInfo.Gpu GPU =
        new GpuPoolInfo.Gpu(1, "Tesla V100-PCIE-16GB", 16160L << 20, 16160L << 20, 0, List.of());
    private static final GpuPoolInfo INFO =
        new GpuPoolInfo("cuda", 4, 0, List.of(GPU), "bf-server", "12.4", "550.54.15");

    @Test
    void shouldMatchEachKeyAsBitfusionSpellsIt()
    {
        assertMatches("server.addr=10.117.32.177:56001");
        assertMatches("server.addr=10.117.32.177");
        assertMatches("server.hostname=BF-Server");
        assertMatches("server.cuda-version=12.4");
        assertMatches("server.cuda-version=12");
        assertMatches("server.driver-version=550.54.15");
        assertMatches("server.driver-version=550");
        assertMatches("device.id=1");
        assertMatches("device.name=Tesla");
        assertMatches("device.name=v100");
        assertMatches("device.phy-memory=16160");
    }

    @Test
    void shouldNotMatchOtherValues()
    {
        assertMatchesNot("server.addr=10.117.32.177:56002");
        assertMatchesNot("server.addr=10.117.32.17");
        assertMatchesNot("server.hostname=bf-server2");
        assertMatchesNot("server.cuda-version=12.40");
        assertMatchesNot("server.cuda-version=1");
        assertMatchesNot("server.driver-version=55");
        assertMatchesNot("device.id=0");
        assertMatchesNot("device.name=A100");
        assertMatchesNot("device.phy-memory=16384");
    }

    @Test
    void shouldNameTheKeysWhenTheKeyIsUnknownOrTheFilterMalformed()
    {
        final IllegalArgumentException unknown =
            assertThrows(IllegalArgumentException.class, () -> GpuFilter.parse("device.memory=16160"));
        final IllegalArgumentException noValue =
            assertThrows(IllegalArgumentException.class, () -> GpuFilter.parse("device.name"));

        assertTrue(unknown.getMessage().startsWith("unknown filter key 'device.memory'"), unknown.getMessage());
        assertTrue(unknown.getMessage().endsWith("the keys are " + GpuFilter.keys()), unknown.getMessage());
        assertTrue(noValue.getMessage().contains("is not KEY=VALUE"), noValue.getMessage());
        assertTrue(GpuFilter.keys().contains("device.phy-memory"), GpuFilter.keys());
    }

    @Test
    void shouldRefuseValuesThatCanNeverBeRight()
    {
        assertThrows(IllegalArgumentException.class, () -> GpuFilter.parse("device.id="));
        assertThrows(IllegalArgumentException.class, () -> GpuFilter.parse("device.id=first"));
        assertThrows(IllegalArgumentException.class, () -> GpuFilter.parse("device.id=-1"));
        final IllegalArgumentException comparison =
            assertThrows(IllegalArgumentException.class, () -> GpuFilter.parse("device.phy-memory=>8000"));
        assertTrue(comparison.getMessage().contains("is a number of MiB"), comparison.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GpuFilter.parse("server.addr=gpu-host:port"));
    }

    @Test
    void shouldReadBackAsGiven()
    {
        final GpuFilter filter = GpuFilter.parse(" server.hostname = bf-server ");

        assertEquals(GpuFilter.Key.SERVER_HOSTNAME, filter.key());
        assertEquals("server.hostname=bf-server", filter.toString());
    }

    private static void assertMatches(final String text)
    {
        assertTrue(GpuFilter.parse(text).matches(SERVER, INFO, GPU), text);
    }

    private static void assertMatchesNot(final String text)
    {
        assertFalse(GpuFilter.parse(text).matches(SERVER, INFO, GPU), text);
    }
}
