package dev.bitfusion.agent.pool;

import dev.bitfusion.transport.Endpoint;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Where a request for GPU slices goes, given what every server of the pool reports.
 * <p>
 * The policy, for a request of n GPUs with a slice each:
 * <ol>
 *     <li>a GPU fits when its unreserved memory holds the slice (a fraction is of that GPU's whole memory, as the
 *     server computes it);</li>
 *     <li>all n GPUs come from one server: a server is a candidate when n of its GPUs fit, and it offers the n that
 *     fit best (least unreserved memory left over, then fewest tenants, then lowest index);</li>
 *     <li>candidates are ordered by the memory their GPUs leave over (best fit first, so large free GPUs stay free
 *     for large requests), then by their tenants (fewest first), then by the server's place in the list.</li>
 * </ol>
 * The same pool state always gives the same order. The caller tries candidates in that order: a server that
 * refuses because another client took the memory since it answered is left for the next.
 * <p>
 * Thread safety: stateless.
 */
public final class Placement
{
    private static final Comparator<FittingGpu> BEST_FIT = Comparator
        .comparingLong(FittingGpu::leftOverBytes)
        .thenComparingInt(FittingGpu::tenants)
        .thenComparingInt(FittingGpu::index);

    private static final Comparator<Candidate> BEST_CANDIDATE = Comparator
        .comparingLong(Candidate::leftOverBytes)
        .thenComparingInt(Candidate::tenants)
        .thenComparingInt(Candidate::serverOrder);

    private Placement()
    {
    }

    /**
     * What a server answered.
     *
     * @param endpoint where it is.
     * @param gpus     its GPUs and their slices.
     */
    public record ServerState(Endpoint endpoint, GpuPoolInfo gpus)
    {
    }

    /**
     * A request as {@code bitfusion run} takes it.
     *
     * @param gpuCount  how many GPUs (-n).
     * @param fraction  the slice as a fraction of each GPU's memory (-p), or 0.
     * @param megabytes the slice in MiB (-m), or 0; both 0: whole GPUs.
     */
    public record Request(int gpuCount, double fraction, long megabytes)
    {
        /**
         * @return the slice on a GPU of this size, computed as the server computes it.
         */
        public long sliceBytes(final long totalBytes)
        {
            if (fraction > 0)
            {
                return (long)(totalBytes * fraction);
            }
            return megabytes > 0 ? megabytes << 20 : totalBytes;
        }
    }

    /**
     * A place the request fits.
     *
     * @param server        the server.
     * @param gpuIndices    its GPUs, one for each device ordinal of the program.
     * @param leftOverBytes the unreserved memory the slices leave on those GPUs, together.
     * @param tenants       the slices already open on those GPUs, together.
     * @param serverOrder   the server's place in the list.
     */
    public record Candidate(Endpoint server, List<Integer> gpuIndices, long leftOverBytes, int tenants, int serverOrder)
    {
    }

    private record FittingGpu(int index, long leftOverBytes, int tenants)
    {
    }

    /**
     * @param pool    what each server that answered reports, in the order the servers were configured.
     * @param request what is asked for.
     * @return where the request fits, best first; empty when no single server has enough GPUs that fit.
     */
    public static List<Candidate> candidates(final List<ServerState> pool, final Request request)
    {
        final List<Candidate> candidates = new ArrayList<>();
        for (int order = 0; order < pool.size(); order++)
        {
            final ServerState server = pool.get(order);
            final List<FittingGpu> fitting = fitting(server.gpus(), request);
            if (fitting.size() >= request.gpuCount())
            {
                final List<FittingGpu> chosen = fitting.subList(0, request.gpuCount());
                candidates.add(new Candidate(
                    server.endpoint(),
                    chosen.stream().map(FittingGpu::index).toList(),
                    chosen.stream().mapToLong(FittingGpu::leftOverBytes).sum(),
                    chosen.stream().mapToInt(FittingGpu::tenants).sum(),
                    order));
            }
        }
        candidates.sort(BEST_CANDIDATE);
        return candidates;
    }

    /**
     * Why nothing was placed, in words: the request, how many GPUs fit and where, and what each GPU has.
     *
     * @param pool    what each server that answered reports.
     * @param request what was asked for.
     * @return one line.
     */
    public static String whyNoFit(final List<ServerState> pool, final Request request)
    {
        int fitCount = 0;
        int gpuCount = 0;
        final StringBuilder gpus = new StringBuilder();
        for (final ServerState server : pool)
        {
            fitCount += fitting(server.gpus(), request).size();
            gpuCount += server.gpus().gpus().size();
            for (final GpuPoolInfo.Gpu gpu : server.gpus().gpus())
            {
                gpus.append(gpus.isEmpty() ? "" : ", ").append(server.endpoint()).append(" GPU ").append(gpu.index())
                    .append(' ').append(gpu.unreservedBytes() >> 20).append('/').append(gpu.totalBytes() >> 20)
                    .append(" MiB unreserved");
            }
        }
        final String have = "the pool has " + gpuCount + " GPU" + (gpuCount == 1 ? "" : "s") + " (" + gpus + ")";
        if (fitCount >= request.gpuCount())
        {
            // Enough GPUs fit, just not on one server.
            return "no single server has " + request.gpuCount() + " GPUs the slice fits, and placing one program " +
                "across servers is not supported yet; " + fitCount + " fit across the pool; " + have;
        }
        return fitCount + " GPU" + (fitCount == 1 ? "" : "s") + " of the pool fit the slice, " +
            request.gpuCount() + " wanted; " + have;
    }

    /**
     * Whether the request could be placed were every slice of the pool released: one that could not never will, and
     * waiting for room is pointless.
     *
     * @param pool    what each server that answered reports.
     * @param request what is asked for.
     * @return null when it could, else why not, in words.
     */
    public static String whyNeverFits(final List<ServerState> pool, final Request request)
    {
        final List<ServerState> empty = pool.stream()
            .map(server -> new ServerState(server.endpoint(), new GpuPoolInfo(server.gpus().backend(),
                server.gpus().protocolVersion(), 0, server.gpus().gpus().stream()
                .map(gpu -> new GpuPoolInfo.Gpu(gpu.index(), gpu.name(), gpu.totalBytes(), gpu.totalBytes(), 0, List.of()))
                .toList())))
            .toList();
        if (!candidates(empty, request).isEmpty())
        {
            return null;
        }
        return "it can never fit, even with every slice of the pool free: " + whyNoFit(empty, request)
            .replace(" unreserved", "");
    }

    private static List<FittingGpu> fitting(final GpuPoolInfo server, final Request request)
    {
        final List<FittingGpu> fitting = new ArrayList<>();
        for (final GpuPoolInfo.Gpu gpu : server.gpus())
        {
            final long sliceBytes = request.sliceBytes(gpu.totalBytes());
            if (sliceBytes <= gpu.unreservedBytes())
            {
                fitting.add(new FittingGpu(gpu.index(), gpu.unreservedBytes() - sliceBytes, gpu.slices().size()));
            }
        }
        fitting.sort(BEST_FIT);
        return fitting;
    }
}
