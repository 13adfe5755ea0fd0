package dev.bitfusion.health.host;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs commands as child processes with a time limit, so a hung probe cannot hang the report.
 * <p>
 * Thread-safe.
 */
public final class ProcessCommandRunner implements CommandRunner
{
    /**
     * Exit code reported when the command could not start or ran past its limit.
     */
    public static final int NOT_RUN_EXIT_CODE = 127;

    private final long timeoutMs;

    /**
     * @param timeoutMs how long a command may run before it is killed.
     */
    public ProcessCommandRunner(final long timeoutMs)
    {
        this.timeoutMs = timeoutMs;
    }

    /**
     * {@inheritDoc}
     */
    public CommandResult run(final List<String> command)
    {
        final Process process;
        try
        {
            process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.DISCARD).start();
        }
        catch (final IOException ex)
        {
            return new CommandResult(NOT_RUN_EXIT_CODE, "", "cannot run " + command.get(0) + ": " + ex.getMessage());
        }

        // Both streams are drained concurrently: a child blocked on a full stderr pipe would never exit.
        final CompletableFuture<String> stdout = CompletableFuture.supplyAsync(() -> drain(process.getInputStream()));
        final CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> drain(process.getErrorStream()));
        try
        {
            if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS))
            {
                process.destroyForcibly();
                return new CommandResult(
                    NOT_RUN_EXIT_CODE, "", command.get(0) + " did not finish within " + timeoutMs + " ms");
            }
            return new CommandResult(process.exitValue(), stdout.join(), stderr.join());
        }
        catch (final InterruptedException ex)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            return new CommandResult(NOT_RUN_EXIT_CODE, "", command.get(0) + " interrupted");
        }
    }

    private static String drain(final InputStream in)
    {
        try (in)
        {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        catch (final IOException ex)
        {
            return "";
        }
    }
}
