package dev.bitfusion.agent.javaagent;

import dev.bitfusion.agent.ClientSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgentOptionsTest
{
    @TempDir
    Path home;

    @Test
    void shouldTakeEachOptionFromTheFirstLayerThatGivesIt()
    {
        final Properties properties = new Properties();
        properties.setProperty("bitfusion.gpus", "2");
        properties.setProperty("bitfusion.servers", "10.0.0.2:2000");
        final AgentOptions options = AgentOptions.resolve("servers=10.0.0.1:1000", properties,
            Map.of(ClientSettings.SERVERS_ENV_NAME, "10.0.0.3:3000", ClientSettings.GPU_COUNT_ENV_NAME, "3",
                "BITFUSION_ON_NO_SERVER", "continue"), home);

        assertEquals("10.0.0.1:1000", options.servers().get(0).toString());
        assertEquals("agent argument servers", options.serversSource());
        assertEquals(2, options.settings(home, Map.of()).gpuCount());
        assertEquals(AgentOptions.NoServer.CONTINUE, options.noServer());
    }

    @Test
    void shouldPlaceEachDeviceOnTheServerBitfusionRunChose()
    {
        final Map<String, String> environment = Map.of(
            ClientSettings.SERVERS_ENV_NAME, "10.0.0.1:1000,10.0.0.2:2000",
            ClientSettings.GPU_COUNT_ENV_NAME, "2",
            ClientSettings.GPU_INDICES_ENV_NAME, "1,0",
            ClientSettings.DEVICE_SERVERS_ENV_NAME, "10.0.0.1:1000,10.0.0.2:2000");

        final ClientSettings settings = AgentOptions.resolve(null, new Properties(), environment, home)
            .settings(home, environment);

        assertEquals("10.0.0.1:1000", settings.serverOf(0).toString());
        assertEquals(1, settings.gpuIndex(0));
        assertEquals("10.0.0.2:2000", settings.serverOf(1).toString());
        assertEquals(0, settings.gpuIndex(1));
    }

    @Test
    void shouldTakeTheSliceWholeFromOneLayer()
    {
        final AgentOptions options = AgentOptions.resolve("servers=h:1,m=512", new Properties(),
            Map.of(ClientSettings.MEMORY_FRACTION_ENV_NAME, "0.5"), home);

        final ClientSettings settings = options.settings(home, Map.of());
        assertEquals(512, settings.memoryMb());
        assertEquals(0.0, settings.memoryFraction());
        assertEquals("1 GPU with 512 MiB each", options.describeSlice());
    }

    @Test
    void shouldAskForTheWholeGpuWhenNoSliceIsGiven()
    {
        final AgentOptions options = AgentOptions.resolve("servers=h:1", new Properties(), Map.of(), home);

        assertEquals(1.0, options.settings(home, Map.of()).memoryFraction());
    }

    @Test
    void shouldReadSeveralServersSeparatedByCommasAmongOtherArguments()
    {
        final AgentOptions options = AgentOptions.resolve("servers=a:1,b:2,n=1,p=0.25", new Properties(), Map.of(), home);

        assertEquals(2, options.servers().size());
        assertEquals("b:2", options.servers().get(1).toString());
        assertEquals(0.25, options.settings(home, Map.of()).memoryFraction());
    }

    @Test
    void shouldFallBackToServersConf() throws IOException
    {
        Files.createDirectories(home.resolve(".bitfusion"));
        Files.writeString(home.resolve(".bitfusion/servers.conf"), "servers:\n  - addresses: [gpu-host:56001]\n");

        final AgentOptions options = AgentOptions.resolve(null, new Properties(), Map.of(), home);

        assertEquals("gpu-host:56001", options.servers().get(0).toString());
        assertEquals("servers.conf", options.serversSource());
    }

    @Test
    void shouldStartEagerlyUnlessInjectedThroughJavaToolOptions()
    {
        assertEquals(AgentOptions.Start.EAGER,
            AgentOptions.resolve("servers=h:1", new Properties(), Map.of(), home).start());
        assertEquals(AgentOptions.Start.LAZY, AgentOptions.resolve(null, new Properties(), Map.of(
            ClientSettings.SERVERS_ENV_NAME, "h:1",
            AgentOptions.JAVA_TOOL_OPTIONS_ENV_NAME, "-javaagent:/opt/bitfusion/bitfusion-agent.jar"), home).start());
        assertEquals(AgentOptions.Start.EAGER, AgentOptions.resolve("servers=h:1,start=eager", new Properties(), Map.of(
            AgentOptions.JAVA_TOOL_OPTIONS_ENV_NAME, "-javaagent:/opt/bitfusion/bitfusion-agent.jar"), home).start());
    }

    @Test
    void shouldReadTheTokenFromTheTokenFile() throws IOException
    {
        Files.writeString(home.resolve("token"), "secret\n");

        final AgentOptions options = AgentOptions.resolve("servers=h:1,token_file=" + home.resolve("token"),
            new Properties(), Map.of(), home);

        assertEquals("secret", options.settings(home, Map.of()).token());
    }

    @Test
    void shouldNameTheOptionAndItsLayerWhenAValueIsMalformed()
    {
        final Properties properties = new Properties();
        properties.setProperty("bitfusion.gpus", "two");

        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> AgentOptions.resolve("servers=h:1", properties, Map.of(), home));

        assertTrue(ex.getMessage().contains("'two' for n (from -Dbitfusion.gpus)"), ex.getMessage());
    }

    @Test
    void shouldRefuseAnUnknownArgumentListingTheKnownOnes()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> AgentOptions.resolve("server=h:1", new Properties(), Map.of(), home));

        assertTrue(ex.getMessage().contains("unknown agent argument 'server'"), ex.getMessage());
        assertTrue(ex.getMessage().contains("servers, n, p, m"), ex.getMessage());
    }
}
