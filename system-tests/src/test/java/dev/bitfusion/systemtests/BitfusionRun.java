package dev.bitfusion.systemtests;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One {@code bin/bitfusion run ...} (or another command of bin/bitfusion) in its own process, its stdout and stderr
 * collected line by line as they come, so a test can act while the program runs (kill the server, kill the program).
 * <p>
 * Thread safety: the output is collected on a reader thread; the methods may be called from any thread.
 */
final class BitfusionRun implements AutoCloseable
{
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final Thread reader;

    private BitfusionRun(final Process process)
    {
        this.process = process;
        reader = new Thread(this::collect, "bitfusion-run-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * @param args what follows {@code bitfusion run}.
     * @return the started command.
     */
    static BitfusionRun start(final String... args) throws IOException
    {
        return start(Map.of(), args);
    }

    /**
     * @param environment variables to add to the command's environment.
     * @param args        what follows {@code bitfusion run}.
     * @return the started command.
     */
    static BitfusionRun start(final Map<String, String> environment, final String... args) throws IOException
    {
        return startCommand("run", environment, args);
    }

    /**
     * @param bitfusionCommand the command of bin/bitfusion, e.g. request_gpus or client.
     * @param environment      variables to add to the command's environment.
     * @param args             what follows the command.
     * @return the started command.
     */
    static BitfusionRun startCommand(final String bitfusionCommand, final Map<String, String> environment,
        final String... args) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of(CudaExamples.ROOT.resolve("bin/bitfusion").toString(),
            bitfusionCommand));
        command.addAll(List.of(args));
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        // Same host, but the point is the network path: force UDP in the program's embedded JVM.
        builder.environment().put("BITFUSION_JVM_OPTS", "-Dbitfusion.client.transport=udp");
        builder.environment().remove("BITFUSION_SERVERS");
        builder.environment().putAll(environment);
        return new BitfusionRun(builder.start());
    }

    /**
     * @param timeoutSeconds how long to wait.
     * @return the exit code, or -1 when it did not end in time.
     */
    int await(final long timeoutSeconds) throws InterruptedException
    {
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS))
        {
            return -1;
        }
        reader.join(TimeUnit.SECONDS.toMillis(5));
        return process.exitValue();
    }

    /**
     * @param condition what a line must satisfy.
     * @param timeoutMs how long to wait.
     * @return the first such line, or null when none came in time.
     */
    String awaitLine(final Predicate<String> condition, final long timeoutMs) throws InterruptedException
    {
        final long deadlineMs = System.currentTimeMillis() + timeoutMs;
        synchronized (lines)
        {
            while (true)
            {
                for (final String line : lines)
                {
                    if (condition.test(line))
                    {
                        return line;
                    }
                }
                final long leftMs = deadlineMs - System.currentTimeMillis();
                if (leftMs <= 0)
                {
                    return null;
                }
                lines.wait(leftMs);
            }
        }
    }

    /**
     * @return everything printed so far.
     */
    String output()
    {
        synchronized (lines)
        {
            return String.join("\n", lines);
        }
    }

    /**
     * @return whether the command still runs.
     */
    boolean isRunning()
    {
        return process.isAlive();
    }

    /**
     * @return the process id of {@code bitfusion run}'s JVM (bin/bitfusion execs it), the parent of the program.
     */
    long pid()
    {
        return process.pid();
    }

    /**
     * Send SIGTERM to {@code bitfusion run} itself, as a user's Ctrl-C or a job scheduler would.
     */
    void terminate()
    {
        process.destroy();
    }

    /**
     * SIGKILL {@code bitfusion run} itself (its JVM: bin/bitfusion execs it), leaving the program it started running.
     */
    void kill() throws InterruptedException
    {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    public void close() throws InterruptedException
    {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    private void collect()
    {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
        {
            String line;
            while ((line = in.readLine()) != null)
            {
                synchronized (lines)
                {
                    lines.add(line);
                    lines.notifyAll();
                }
            }
        }
        catch (final IOException ignore)
        {
            // The process ended; what it printed so far is kept.
        }
    }
}
