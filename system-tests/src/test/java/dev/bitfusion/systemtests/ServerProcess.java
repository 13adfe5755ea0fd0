package dev.bitfusion.systemtests;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.transport.Endpoint;
import org.junit.jupiter.api.Assertions;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real {@code bitfusion server} in its own JVM, on a free loopback port, with its output captured.
 */
final class ServerProcess implements AutoCloseable
{
    private final Process process;
    private final Endpoint endpoint;
    private final List<String> output = Collections.synchronizedList(new ArrayList<>());

    private ServerProcess(final Process process, final Endpoint endpoint)
    {
        this.process = process;
        this.endpoint = endpoint;
    }

    /**
     * @param memoryMb  memory of the emulated GPU.
     * @param extraArgs more server options, e.g. --token-file.
     * @return the running server, once it says it listens.
     */
    static ServerProcess start(final long memoryMb, final String... extraArgs) throws IOException, InterruptedException
    {
        return start(freeUdpPort(), memoryMb, extraArgs);
    }

    /**
     * @param port      the loopback port to listen on, e.g. one whose Aeron directory a test prepared.
     * @param memoryMb  memory of the emulated GPU.
     * @param extraArgs more server options.
     * @return the running server, once it says it listens.
     */
    static ServerProcess start(final int port, final long memoryMb, final String... extraArgs)
        throws IOException, InterruptedException
    {
        final List<String> command = JavaProcess.command("dev.bitfusion.cli.BitfusionCommand");
        command.addAll(List.of("server", "--listen", "127.0.0.1:" + port, "--backend", "emulated",
            "--memory-mb", Long.toString(memoryMb)));
        command.addAll(List.of(extraArgs));
        return start(command, port);
    }

    /**
     * @param command a command line that ends up running a server on 127.0.0.1:{@code port}, e.g. through
     *                {@code bitfusion run}.
     * @param port    the port it listens on.
     * @return the running server, once it says it listens.
     */
    static ServerProcess start(final List<String> command, final int port) throws IOException, InterruptedException
    {
        return start(command, new Endpoint("127.0.0.1", port));
    }

    /**
     * @param command  a command line that ends up running a server listening on {@code endpoint}, e.g. inside a
     *                 network namespace.
     * @param endpoint where it listens.
     * @return the running server, once it says it listens.
     */
    static ServerProcess start(final List<String> command, final Endpoint endpoint) throws IOException, InterruptedException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final ServerProcess server = new ServerProcess(process, endpoint);

        final CountDownLatch listening = new CountDownLatch(1);
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader lines = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = lines.readLine()) != null)
                {
                    server.output.add(line);
                    if (line.contains("listening on"))
                    {
                        listening.countDown();
                    }
                }
            }
            catch (final IOException ignore)
            {
                // The process ended; its output so far is kept.
            }
        }, "server-output-" + endpoint.port());
        reader.setDaemon(true);
        reader.start();

        if (!listening.await(30, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new IllegalStateException("server did not start: " + server.output);
        }
        return server;
    }

    static int freeUdpPort() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            return socket.getLocalPort();
        }
    }

    Endpoint endpoint()
    {
        return endpoint;
    }

    String serverList()
    {
        return endpoint.toString();
    }

    long pid()
    {
        return process.pid();
    }

    /**
     * Ask the server for its GPUs (list_gpus) until what it says satisfies a condition.
     *
     * @param condition what the listing must show.
     * @param timeoutMs how long to keep asking.
     * @return the first listing that satisfies it; the test fails with the last one when none did in time.
     */
    GpuPoolInfo awaitPool(final Predicate<GpuPoolInfo> condition, final long timeoutMs) throws InterruptedException
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        GpuPoolInfo pool = null;
        while (System.nanoTime() < deadlineNs)
        {
            pool = PoolQuery.listGpus(endpoint, TimeUnit.SECONDS.toNanos(5));
            if (condition.test(pool))
            {
                return pool;
            }
            Thread.sleep(100);
        }
        return Assertions.fail("the server's GPUs never reached the expected state in " + timeoutMs + " ms: " + pool);
    }

    /**
     * @param field a field of /proc/PID/status, e.g. Threads or VmRSS.
     * @return its number (kB for sizes).
     */
    long status(final String field) throws IOException
    {
        for (final String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc", Long.toString(pid()), "status")))
        {
            if (line.startsWith(field + ":"))
            {
                return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
            }
        }
        throw new IllegalStateException("no " + field + " in the status of process " + pid());
    }

    boolean isAlive()
    {
        return process.isAlive();
    }

    List<String> output()
    {
        synchronized (output)
        {
            return new ArrayList<>(output);
        }
    }

    /**
     * Kill the server the hard way, as a crash or power loss would.
     */
    void kill() throws InterruptedException
    {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /**
     * Stops the whole process (SIGSTOP) for a while, as a long garbage collection or an overloaded host would.
     */
    void pause(final long millis) throws IOException, InterruptedException
    {
        stop();
        Thread.sleep(millis);
        resume();
    }

    /**
     * Stops the whole process (SIGSTOP) until {@link #resume()}.
     */
    void stop() throws IOException, InterruptedException
    {
        signal("STOP");
    }

    void resume() throws IOException, InterruptedException
    {
        signal("CONT");
    }

    private void signal(final String name) throws IOException, InterruptedException
    {
        final Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0)
        {
            throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    /**
     * @return the exit code, once the process has ended within the time given.
     */
    int awaitExit(final long seconds) throws InterruptedException
    {
        if (!process.waitFor(seconds, TimeUnit.SECONDS))
        {
            throw new IllegalStateException("the server still runs after " + seconds + " s: " + output());
        }
        return process.exitValue();
    }

    public void close() throws InterruptedException
    {
        process.destroy();
        if (process.isAlive())
        {
            try
            {
                // A stopped server holds the SIGTERM until it is continued.
                resume();
            }
            catch (final IOException | IllegalStateException ignore)
            {
                // It ended meanwhile.
            }
        }
        if (!process.waitFor(10, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
