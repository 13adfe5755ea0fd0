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
            process = new ProcessBuilder(command).start();
            // A probe never reads its input; closing it makes one that tries see EOF instead of waiting.
            process.getOutputStream().close();
        }
        catch (final IOException ex)
        {
            return new CommandResult(NOT_RUN_EXIT_CODE, "", "cannot run " + command.get(0) + ": " + ex.getMessage());
        }

        // Both streams are drained concurrently: a child blocked on a full stderr pipe would never exit.
        // Own daemon threads, not the common pool, since the reads block for as long as the child runs.
        final CompletableFuture<String> stdout =
            CompletableFuture.supplyAsync(() -> drain(process.getInputStream()), ProcessCommandRunner::startDaemon);
        final CompletableFuture<String> stderr =
            CompletableFuture.supplyAsync(() -> drain(process.getErrorStream()), ProcessCommandRunner::startDaemon);
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

    private static void startDaemon(final Runnable task)
    {
        final Thread thread = new Thread(task, "bitfusion-health-probe-output");
        thread.setDaemon(true);
        thread.start();
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
