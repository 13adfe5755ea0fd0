package dev.bitfusion.cli;

import dev.bitfusion.agent.ClientSettings;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ClientIdentityTest
{
    @Test
    void shouldReadHostPidAndCommandOfBitfusionRunsHolder()
    {
        final String id = "ann@gpu-ws1.example.com:4242 (4242@gpu-ws1) bitfusion run: kernel_loop 60 " +
            "[bitfusion run 0b8e2c1e-5f0e-4cf4-9d8e-2a7bd3f1c0aa]";

        final ClientIdentity client = ClientIdentity.parse(id);

        assertEquals(id, client.id());
        assertEquals("ann", client.user());
        assertEquals("gpu-ws1.example.com", client.host());
        assertEquals(4242L, client.pid());
        assertEquals("kernel_loop 60", client.command());
        assertEquals("bitfusion run 0b8e2c1e-5f0e-4cf4-9d8e-2a7bd3f1c0aa", client.tag());
    }

    @Test
    void shouldReadAProgramsOwnSessionWhichSaysNoCommand()
    {
        final ClientIdentity own = ClientIdentity.parse("bob@node7:31337 (31337@node7)");
        final ClientIdentity tagged = ClientIdentity.parse("bob@node7:31338 (31338@node7) [bitfusion run 1234]");

        assertEquals("node7", own.host());
        assertEquals(31337L, own.pid());
        assertNull(own.command());
        assertNull(own.tag());
        assertEquals(31338L, tagged.pid());
        assertNull(tagged.command());
        assertEquals("bitfusion run 1234", tagged.tag());
    }

    @Test
    void shouldKeepACommandWithBracketsAndColonsWhole()
    {
        final ClientIdentity client = ClientIdentity.parse(
            "u@h:7 (7@h) bitfusion run: bash -c \"a [x]: b & wait\" [bitfusion run t]");

        assertEquals("bash -c \"a [x]: b & wait\"", client.command());
        assertEquals("bitfusion run t", client.tag());
    }

    @Test
    void shouldReadWhatTheClientWritesItself()
    {
        final ClientIdentity client = ClientIdentity.parse(ClientSettings.defaultClientId() + " bitfusion run: ./prog [t]");

        assertEquals(ProcessHandle.current().pid(), client.pid());
        assertEquals("./prog", client.command());
    }

    @Test
    void shouldKeepAnIdOfAnotherShapeWhole()
    {
        for (final String id : new String[]{ "(another tenant)", "", "my-trainer", "u@h:notapid (x)",
            "u@h:99999999999999999999 (x) bitfusion run: a [t]" })
        {
            final ClientIdentity client = ClientIdentity.parse(id);

            assertEquals(id, client.id());
            assertNull(client.user(), id);
            assertNull(client.host(), id);
            assertNull(client.pid(), id);
            assertNull(client.command(), id);
            assertNull(client.tag(), id);
        }
    }
}
