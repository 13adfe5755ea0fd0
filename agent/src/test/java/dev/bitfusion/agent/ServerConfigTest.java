package dev.bitfusion.agent;

import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServerConfigTest
{
    @TempDir
    Path home;

    @Test
    void shouldReadFirstAddressOfEachServerWhenFileListsServers()
    {
        final String yaml = """
            servers:
              - addresses: [10.0.0.11:56001]
              - addresses:
                  - 10.0.0.12:56002
                  - 192.168.7.12:56002
            """;

        assertEquals(List.of(new Endpoint("10.0.0.11", 56001), new Endpoint("10.0.0.12", 56002)),
            ServerConfig.parse(yaml, "test"));
    }

    @Test
    void shouldUseDefaultPortAndDropPrefixWhenAddressIsAnInterface()
    {
        assertEquals(List.of(new Endpoint("172.16.31.206", Protocol.DEFAULT_PORT)),
            ServerConfig.parse("servers:\n  - addresses: [172.16.31.206/24]\n", "test"));
    }

    @Test
    void shouldNameTheFileWhenServersListIsMissing()
    {
        final IllegalArgumentException ex = assertThrows(
            IllegalArgumentException.class, () -> ServerConfig.parse("hosts: [a:1]\n", "/etc/bitfusion/servers.conf"));
        assertTrue(ex.getMessage().contains("/etc/bitfusion/servers.conf"), ex.getMessage());
        assertTrue(ex.getMessage().contains("'servers:'"), ex.getMessage());
    }

    @Test
    void shouldRejectServerWhenAddressesAreEmptyOrNotYaml()
    {
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse("servers:\n  - addresses: []\n", "t"));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse("servers: [\n", "t"));
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.parse("servers:\n  - addresses: [h:notaport]\n", "t"));
    }

    @Test
    void shouldRefuseArbitraryTypesWhenFileHoldsTags()
    {
        assertThrows(IllegalArgumentException.class,
            () -> ServerConfig.parse("servers: !!java.util.Date {}\n", "t"));
    }

    @Test
    void shouldReadUserFileWhenPresentInHome() throws IOException
    {
        Files.createDirectories(home.resolve(".bitfusion"));
        Files.writeString(home.resolve(ServerConfig.USER_FILE), "servers:\n  - addresses: [gpu-host:56009]\n");

        assertEquals(List.of(new Endpoint("gpu-host", 56009)), ServerConfig.discover(home));
    }

    @Test
    void shouldFindNoServersWhenFileIsEmpty() throws IOException
    {
        final Path file = home.resolve("servers.conf");
        Files.writeString(file, "");

        assertEquals(List.of(), ServerConfig.load(file));
    }
}
