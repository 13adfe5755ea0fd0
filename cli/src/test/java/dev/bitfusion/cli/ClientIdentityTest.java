package dev.bitfusion.cli;

import dev.bitfusion.agent.ClientSettings;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void shouldReadWhatBitfusionRunWritesWhichDropsTheProgramsDirectoryBeforeItsArguments()
    {
        final ClientIdentity client = ClientIdentity.parse(ClientSettings.defaultClientId() + " bitfusion run: " +
            RunCommand.shownCommand(List.of("/work/a/long/path/to/the/build/of/the/cuda/examples/kernel_loop", "60")) +
            " [t]");
        final String whole = RunCommand.shownCommand(List.of("/opt/cuda-examples/kernel_loop", "60"));
        final String cut = RunCommand.shownCommand(List.of("/usr/bin/python", "-c", "x".repeat(100)));

        assertEquals(ProcessHandle.current().pid(), client.pid());
        assertEquals("kernel_loop 60", client.command());
        assertEquals("t", client.tag());
        assertEquals("/opt/cuda-examples/kernel_loop 60", whole, "kept whole where there is room");
        assertEquals(60, cut.length(), cut);
        assertTrue(cut.startsWith("python -c xxx") && cut.endsWith("x..."), cut);
    }

    @Test
    void shouldReadTheReservationFileOfRequestGpusAsItsCommand()
    {
        final ClientIdentity client = ClientIdentity.parse(
            "ann@ws1:77 (77@ws1) bitfusion request_gpus: /home/ann/.bitfusion/reservation [bitfusion request_gpus 5f]");

        assertEquals(77L, client.pid());
        assertEquals("/home/ann/.bitfusion/reservation", client.command());
        assertEquals("bitfusion request_gpus 5f", client.tag());
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
