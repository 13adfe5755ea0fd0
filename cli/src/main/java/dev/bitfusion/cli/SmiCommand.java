package dev.bitfusion.cli;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.transport.Endpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code bitfusion smi}: the pool at a glance, nvidia-smi style: every server and GPU, memory total, reserved and
 * allocated, and each slice with its client (host, pid, command), its age, its sessions, and its calls and bytes
 * per second.
 * <p>
 * It reads the pool as {@code bitfusion run} does, every server at once ({@link PoolQuery#listGpusOfAll}). A rate
 * needs two looks: the first look is followed by a second {@link #FIRST_INTERVAL_MS} later, and the second is shown
 * with the rates over that second; {@code --watch} then shows a new look every interval with the rates over it
 * ({@link PoolSample}). Text clears the screen before each look, as {@code watch} does; {@code --json} writes one
 * document per look, a line each ({@link PoolSampleJsonWriter}).
 * <p>
 * Exit code: 0 when every server listed its GPUs, 1 when one did not, 2 when no server is configured; with
 * {@code --watch} it runs until stopped.
 * <p>
 * Thread safety: a command object runs once, on the main thread.
 */
@Command(name = "smi", mixinStandardHelpOptions = true,
    description = "The pool at a glance: servers, GPUs, slices, their clients, and calls and bytes per second.")
final class SmiCommand implements Callable<Integer>
{
    /** How long after the first look the second is taken, to give the rates shown first. */
    static final long FIRST_INTERVAL_MS = 1000;
    /** Clears a terminal and puts the cursor home, as {@code watch} does. */
    private static final String CLEAR_SCREEN = "\033[H\033[2J";

    @Option(names = "--server_list", paramLabel = "HOST:PORT,...",
        description = "Servers to show (else BITFUSION_SERVERS, else ~/.bitfusion/servers.conf or /etc/bitfusion/servers.conf).")
    String serverList;

    @Option(names = "--watch", arity = "0..1", fallbackValue = "2", paramLabel = "SECONDS",
        description = "Show a new look every SECONDS (default 2) until stopped.")
    Double watchSeconds;

    @Option(names = "--json", description = "One JSON document per look, a line each, for scripts.")
    boolean json;

    @Option(names = "--timeout-ms", paramLabel = "MS", description = "How long to wait for the servers, asked at once (default 3000).")
    long timeoutMs = 3000;

    public Integer call() throws InterruptedException, IOException
    {
        final List<Endpoint> servers;
        try
        {
            servers = ServerList.resolve(serverList);
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("bitfusion smi: " + ex.getMessage());
            return 2;
        }
        if (servers.isEmpty())
        {
            System.err.println("bitfusion smi: no server configured: use --server_list HOST:PORT, BITFUSION_SERVERS " +
                "or servers.conf");
            return 2;
        }
        if (watchSeconds != null && !(watchSeconds > 0))
        {
            System.err.println("bitfusion smi: --watch takes a number of seconds above 0, not " + watchSeconds);
            return 2;
        }

        final PrintStream out = System.out;
        PoolSample sample = look(servers, null);
        Thread.sleep(FIRST_INTERVAL_MS);
        while (true)
        {
            sample = look(servers, sample);
            show(sample, out);
            if (watchSeconds == null)
            {
                return sample.answers().stream().allMatch(answer -> answer.gpus() != null) ? 0 : 1;
            }
            Thread.sleep(Math.round(watchSeconds * 1000));
        }
    }

    private PoolSample look(final List<Endpoint> servers, final PoolSample previous) throws InterruptedException
    {
        final List<PoolQuery.Answer> answers = PoolQuery.listGpusOfAll(
            servers, ClientSettings.discoverQueryCredentials(), TimeUnit.MILLISECONDS.toNanos(timeoutMs));
        return PoolSample.of(answers, System.currentTimeMillis(), previous);
    }

    private void show(final PoolSample sample, final PrintStream out) throws IOException
    {
        if (json)
        {
            new PoolSampleJsonWriter().write(sample, out);
        }
        else
        {
            final StringBuilder text = new StringBuilder(watchSeconds != null ? CLEAR_SCREEN : "");
            new PoolSampleTextWriter().write(sample, text);
            out.print(text);
        }
        out.flush();
    }
}
