package dev.bitfusion.agent;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClientSettingsEnvironmentTest
{
    @Test
    void shouldTagTheProgramsOwnClientIdWithTheRunThatStartedIt()
    {
        final ClientSettings settings = ClientSettings.fromEnvironment(Map.of(
            ClientSettings.SERVERS_ENV_NAME, "127.0.0.1:56001",
            ClientSettings.MEMORY_FRACTION_ENV_NAME, "0.5",
            ClientSettings.CLIENT_ID_ENV_NAME, "bitfusion run 1234"));

        assertTrue(settings.clientId().endsWith(" [bitfusion run 1234]"), settings.clientId());
        assertTrue(settings.clientId().contains(":" + ProcessHandle.current().pid()), settings.clientId());
    }

    @Test
    void shouldUseTheFirstServerAndTheSliceInMegabytes()
    {
        final ClientSettings settings = ClientSettings.fromEnvironment(Map.of(
            ClientSettings.SERVERS_ENV_NAME, "10.0.0.1:1000, 10.0.0.2:2000",
            ClientSettings.GPU_COUNT_ENV_NAME, "1",
            ClientSettings.MEMORY_MB_ENV_NAME, "1024"));

        assertEquals("10.0.0.1:1000", settings.servers().get(0).toString());
        assertEquals(1024, settings.memoryMb());
    }

    @Test
    void shouldServeEachDeviceFromTheGpuTheRunPlacedItOn()
    {
        final String servers = "10.0.0.1:1000";
        final ClientSettings placed = ClientSettings.fromEnvironment(Map.of(ClientSettings.SERVERS_ENV_NAME, servers,
            ClientSettings.GPU_COUNT_ENV_NAME, "2", ClientSettings.GPU_INDICES_ENV_NAME, "3, 1"));
        final ClientSettings unplaced = ClientSettings.fromEnvironment(Map.of(ClientSettings.SERVERS_ENV_NAME, servers,
            ClientSettings.GPU_COUNT_ENV_NAME, "2"));

        assertEquals(3, placed.gpuIndex(0));
        assertEquals(1, placed.gpuIndex(1));
        assertEquals(1, unplaced.gpuIndex(1));
        assertThrows(IllegalArgumentException.class, () -> ClientSettings.fromEnvironment(Map.of(
            ClientSettings.SERVERS_ENV_NAME, servers, ClientSettings.GPU_COUNT_ENV_NAME, "2",
            ClientSettings.GPU_INDICES_ENV_NAME, "0")));
    }

    @Test
    void shouldServeEachDeviceFromTheServerTheRunPlacedItOn()
    {
        final ClientSettings across = ClientSettings.fromEnvironment(Map.of(
            ClientSettings.SERVERS_ENV_NAME, "10.0.0.1:1000,10.0.0.2:2000",
            ClientSettings.GPU_COUNT_ENV_NAME, "3",
            ClientSettings.GPU_INDICES_ENV_NAME, "0,0,1",
            ClientSettings.DEVICE_SERVERS_ENV_NAME, "10.0.0.1:1000, 10.0.0.2:2000,10.0.0.2:2000"));
        final ClientSettings together = ClientSettings.fromEnvironment(Map.of(
            ClientSettings.SERVERS_ENV_NAME, "10.0.0.1:1000,10.0.0.2:2000", ClientSettings.GPU_COUNT_ENV_NAME, "2"));

        assertEquals("10.0.0.1:1000", across.serverOf(0).toString());
        assertEquals("10.0.0.2:2000", across.serverOf(1).toString());
        assertEquals("10.0.0.2:2000", across.serverOf(2).toString());
        assertEquals(1, across.gpuIndex(2));
        assertEquals("10.0.0.1:1000", together.serverOf(1).toString(), "unset: every device on the first server");
    }

    @Test
    void shouldRefuseDeviceServersThatDoNotNameOnePerDevice()
    {
        final IllegalArgumentException tooFew = assertThrows(IllegalArgumentException.class,
            () -> ClientSettings.fromEnvironment(Map.of(ClientSettings.SERVERS_ENV_NAME, "10.0.0.1:1000",
                ClientSettings.GPU_COUNT_ENV_NAME, "2", ClientSettings.DEVICE_SERVERS_ENV_NAME, "10.0.0.1:1000")));
        final IllegalArgumentException malformed = assertThrows(IllegalArgumentException.class,
            () -> ClientSettings.fromEnvironment(Map.of(ClientSettings.SERVERS_ENV_NAME, "10.0.0.1:1000",
                ClientSettings.DEVICE_SERVERS_ENV_NAME, "10.0.0.1:port")));

        assertTrue(tooFew.getMessage().contains("one server for each of the 2 GPUs"), tooFew.getMessage());
        assertTrue(tooFew.getMessage().contains(ClientSettings.DEVICE_SERVERS_ENV_NAME), tooFew.getMessage());
        assertTrue(malformed.getMessage().startsWith(ClientSettings.DEVICE_SERVERS_ENV_NAME), malformed.getMessage());
    }

    @Test
    void shouldAskForEncryptionWhenTheEnvironmentSaysSo()
    {
        final String servers = "127.0.0.1:56001";
        assertTrue(ClientSettings.fromEnvironment(Map.of(ClientSettings.SERVERS_ENV_NAME, servers,
            ClientSettings.ENCRYPT_ENV_NAME, "1")).encrypt());
        assertTrue(ClientSettings.fromEnvironment(Map.of(ClientSettings.SERVERS_ENV_NAME, servers,
            ClientSettings.ENCRYPT_ENV_NAME, " True ")).encrypt());
        assertFalse(ClientSettings.fromEnvironment(Map.of(ClientSettings.SERVERS_ENV_NAME, servers,
            ClientSettings.ENCRYPT_ENV_NAME, "0")).encrypt());
        assertFalse(ClientSettings.fromEnvironment(Map.of(ClientSettings.SERVERS_ENV_NAME, servers)).encrypt());

        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> ClientSettings.fromEnvironment(Map.of(ClientSettings.SERVERS_ENV_NAME, servers,
                ClientSettings.ENCRYPT_ENV_NAME, "please")));
        assertTrue(ex.getMessage().contains(ClientSettings.ENCRYPT_ENV_NAME), ex.getMessage());
    }

    @Test
    void shouldSayHowToStartTheProgramWhenNoServerIsGiven()
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> ClientSettings.fromEnvironment(Map.of()));

        assertTrue(ex.getMessage().contains("bitfusion run"), ex.getMessage());
    }
}
