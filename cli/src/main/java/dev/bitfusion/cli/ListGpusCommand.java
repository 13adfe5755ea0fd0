package dev.bitfusion.cli;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.transport.Endpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code bitfusion list_gpus}: each server's GPUs with total and free memory and the slices in use, from the same view
 * of the pool as {@code bitfusion run} (every server asked at once, {@link PoolQuery#listGpusOfAll}), printed in the
 * order the servers are given.
 */
@Command(name = "list_gpus", mixinStandardHelpOptions = true, description = "List the GPUs of each server.")
final class ListGpusCommand implements Callable<Integer>
{
    @Option(names = "--server_list", paramLabel = "HOST:PORT,...", description = "Servers to ask (else BITFUSION_SERVERS).")
    String serverList;

    @Option(names = "--timeout-ms", description = "How long to wait for the servers, asked at once (default 3000).")
    long timeoutMs = 3000;

    public Integer call() throws InterruptedException
    {
        final List<Endpoint> servers = ServerList.resolve(serverList);
        if (servers.isEmpty())
        {
            System.err.println("bitfusion list_gpus: no server given: use --server_list HOST:PORT or BITFUSION_SERVERS");
            return 2;
        }
        int failures = 0;
        for (final PoolQuery.Answer answer : PoolQuery.listGpusOfAll(
            servers, ClientSettings.discoverQueryCredentials(), TimeUnit.MILLISECONDS.toNanos(timeoutMs)))
        {
            if (answer.gpus() != null)
            {
                print(answer.server(), answer.gpus());
            }
            else
            {
                System.out.println("server " + answer.server() + ": " + (answer.refused() ? "REFUSED" : "UNREACHABLE") +
                    ": " + answer.error());
                failures++;
            }
        }
        return failures == 0 ? 0 : 1;
    }

    private static void print(final Endpoint server, final GpuPoolInfo pool)
    {
        System.out.println("server " + server + " (backend " + pool.backend() + ", protocol " + pool.protocolVersion() +
            ", " + pool.openSessions() + " sessions)");
        for (final GpuPoolInfo.Gpu gpu : pool.gpus())
        {
            System.out.printf("  GPU %d: %s, total %d MiB, free %d MiB (unreserved), allocated %d MiB, %d slices%n",
                gpu.index(), gpu.name(), gpu.totalBytes() >> 20, gpu.unreservedBytes() >> 20,
                gpu.allocatedBytes() >> 20, gpu.slices().size());
            for (final GpuPoolInfo.Slice slice : gpu.slices())
            {
                System.out.printf("    slice of session %d: %d MiB, %d bytes allocated, client %s%n",
                    slice.sessionId(), slice.sliceBytes() >> 20, slice.allocatedBytes(), slice.clientId());
            }
        }
    }
}
