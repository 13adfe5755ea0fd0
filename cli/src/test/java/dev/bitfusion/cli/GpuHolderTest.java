package dev.bitfusion.cli;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GpuHolderTest
{
    private static final Path FILE = Path.of("/tmp/bitfusion-test/reservation");

    @Test
    void shouldRecogniseTheHolderOfAFileByItsCommandLine() throws Exception
    {
        // bash -c keeps the words after its script in its command line (two commands: it does not exec sleep), as the
        // holder's JVM keeps its arguments.
        final Process holder = new ProcessBuilder("bash", "-c", "sleep 60; exit 0", BitfusionCommand.class.getName(),
            "request_gpus", GpuHolder.holderArgument(FILE)).start();
        try
        {
            assertTrue(GpuHolder.isHolderOf(holder.pid(), FILE));
            assertFalse(GpuHolder.isHolderOf(holder.pid(), FILE.resolveSibling("other")), "the holder of another file");
        }
        finally
        {
            holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertFalse(GpuHolder.isHolderOf(holder.pid(), FILE), "a holder that has exited");
    }

    @Test
    void shouldNotTakeAnotherProcessWithTheHoldersPidForIt() throws Exception
    {
        final Process stranger = new ProcessBuilder("sleep", "60").start();
        try
        {
            assertFalse(GpuHolder.isHolderOf(stranger.pid(), FILE));
        }
        finally
        {
            stranger.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
