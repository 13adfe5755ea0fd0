package dev.bitfusion.cli;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.kubernetes.admission.PodContract;
import dev.bitfusion.kubernetes.capacity.ApiServerAccess;
import dev.bitfusion.kubernetes.capacity.NodeCapacityPublisher;
import dev.bitfusion.transport.Endpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code bitfusion node-capacity}: advertises {@code bitfusion.io/gpu} on a Kubernetes node (100 per GPU of
 * the pool, or a fixed number), so pods the webhook charged in it are scheduled and quotas count it. Run by a
 * DaemonSet, one per node, it refreshes the figure on an interval; a pool it cannot reach leaves the last
 * figure in place.
 * <p>
 * Thread safety: a command object runs once, on the main thread.
 */
@Command(name = "node-capacity", mixinStandardHelpOptions = true,
    description = "Advertise bitfusion.io/gpu on a Kubernetes node: 100 per GPU of the pool.")
final class NodeCapacityCommand implements Callable<Integer>
{
    @Option(names = "--node", paramLabel = "NAME", description = "The node (default: NODE_NAME).")
    String node = System.getenv("NODE_NAME");

    @Option(names = "--capacity", paramLabel = "UNITS",
        description = "Advertise this many units rather than 100 per GPU of the servers.")
    Long capacity;

    @Option(names = "--server_list", paramLabel = "HOST:PORT,...",
        description = "Servers whose GPUs to count (else BITFUSION_SERVERS, else servers.conf).")
    String serverList;

    @Option(names = "--interval-s", description = "Seconds between refreshes (default 60).")
    long intervalS = 60;

    @Option(names = "--once", description = "Publish once and exit.")
    boolean once;

    @Option(names = "--api-server", paramLabel = "URL", description = "The API server (default: in-cluster).")
    URI apiServer;

    @Option(names = "--api-ca", paramLabel = "FILE", description = "Its CA, PEM (with --api-server).")
    Path apiCa;

    @Option(names = "--api-token-file", paramLabel = "FILE", description = "The bearer token's file (with --api-server).")
    Path apiTokenFile;

    public Integer call() throws InterruptedException
    {
        if (null == node || node.isBlank())
        {
            System.err.println("bitfusion node-capacity: no node: give --node or set NODE_NAME (the downward API's spec.nodeName)");
            return 2;
        }
        if (null != apiServer && (null == apiCa || null == apiTokenFile))
        {
            System.err.println("bitfusion node-capacity: --api-server needs --api-ca and --api-token-file");
            return 2;
        }
        final ApiServerAccess access = null != apiServer ?
            new ApiServerAccess(apiServer, apiCa, apiTokenFile) : ApiServerAccess.inCluster(System.getenv());
        final NodeCapacityPublisher publisher = new NodeCapacityPublisher(access);
        while (true)
        {
            final boolean published = publishOnce(publisher);
            if (once)
            {
                return published ? 0 : 1;
            }
            TimeUnit.SECONDS.sleep(intervalS);
        }
    }

    private boolean publishOnce(final NodeCapacityPublisher publisher) throws InterruptedException
    {
        final long units;
        try
        {
            units = null != capacity ? capacity : poolUnits();
        }
        catch (final RuntimeException ex)
        {
            System.err.println("bitfusion node-capacity: cannot count the pool's GPUs, " + node + " keeps its last " +
                "figure: " + ex.getMessage());
            return false;
        }
        try
        {
            publisher.publish(node, units);
            System.err.println("bitfusion node-capacity: " + node + " advertises " + PodContract.GPU_RESOURCE + " " + units);
            return true;
        }
        catch (final IOException ex)
        {
            System.err.println("bitfusion node-capacity: " + ex.getMessage());
            return false;
        }
    }

    private long poolUnits()
    {
        final List<Endpoint> servers = ServerList.resolve(serverList);
        if (servers.isEmpty())
        {
            throw new IllegalArgumentException("no servers (--server_list, BITFUSION_SERVERS, servers.conf) and no --capacity");
        }
        long gpus = 0;
        for (final Endpoint server : servers)
        {
            final GpuPoolInfo pool = PoolQuery.listGpus(server, TimeUnit.SECONDS.toNanos(5));
            gpus += pool.gpus().size();
        }
        return gpus * PodContract.UNITS_PER_GPU;
    }
}
