package dev.bitfusion.health.host;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcessCommandRunnerTest
{
    @Test
    void shouldCaptureExitCodeAndBothStreams()
    {
        final CommandResult result = new ProcessCommandRunner(5_000)
            .run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"));

        assertEquals(new CommandResult(3, "out\n", "err\n"), result);
    }

    @Test
    void shouldReportReasonWhenCommandCannotStart()
    {
        final CommandResult result = new ProcessCommandRunner(5_000).run(List.of("/nonexistent/bitfusion-probe"));

        assertEquals(ProcessCommandRunner.NOT_RUN_EXIT_CODE, result.exitCode());
        assertTrue(result.stderr().startsWith("cannot run /nonexistent/bitfusion-probe"), result.stderr());
    }

    @Test
    void shouldKillCommandWhenItRunsPastTimeout()
    {
        final long startNs = System.nanoTime();
        final CommandResult result = new ProcessCommandRunner(200).run(List.of("sleep", "30"));

        assertEquals(ProcessCommandRunner.NOT_RUN_EXIT_CODE, result.exitCode());
        assertEquals("sleep did not finish within 200 ms", result.stderr());
        assertTrue(System.nanoTime() - startNs < 10_000_000_000L);
    }
}
