package dev.bitfusion.agent.pool;

import dev.bitfusion.transport.Endpoint;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where a request for GPU slices goes, given what every server of the pool reports.
 * <p>
 * The policy, for a request of n GPUs with a slice each:
 * <ol>
 *     <li>a GPU is eligible when every filter of the request matches it ({@link GpuFilter}) and its index is among
 *     the pinned ones, if any ({@code -l}); it fits when its unreserved memory holds the slice (a fraction is of
 *     that GPU's whole memory, as the server computes it);</li>
 *     <li>all n GPUs come from one server when any server has n that fit: such a server offers the n that fit best
 *     (least unreserved memory left over, then fewest tenants, then lowest index), and these candidates are
 *     ordered by the memory their GPUs leave over (best fit first, so large free GPUs stay free for large
 *     requests), then by their tenants (fewest first), then by the server's place in the list;</li>
 *     <li>only when no server has n, the n GPUs that fit best across the pool are taken, by the same rule per GPU
 *     (least left over, then fewest tenants, then the server's place in the list, then lowest index), whichever
 *     servers they are on. The next candidates each leave out one of the servers the best one used, in device
 *     order: whichever of them refuses, a later candidate does without it;</li>
 *     <li>a candidate's devices are numbered in the order of the server list, then by GPU index: device 0 is on the
 *     first server the candidate uses.</li>
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
        .thenComparingInt(FittingGpu::serverOrder)
        .thenComparingInt(FittingGpu::index);

    private static final Comparator<FittingGpu> DEVICE_ORDER = Comparator
        .comparingInt(FittingGpu::serverOrder)
        .thenComparingInt(FittingGpu::index);

    private static final Comparator<Ranked> BEST_CANDIDATE = Comparator
        .comparingLong((Ranked ranked) -> ranked.candidate().leftOverBytes())
        .thenComparingInt(ranked -> ranked.candidate().tenants())
        .thenComparingInt(Ranked::serverOrder);

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
     * @param filters   what every GPU must match (--filter).
     * @param gpuIds    the GPU indices the request is pinned to, on whichever server (-l); empty: any.
     */
    public record Request(int gpuCount, double fraction, long megabytes, List<GpuFilter> filters, Set<Integer> gpuIds)
    {
        public Request
        {
            filters = List.copyOf(filters);
            gpuIds = Set.copyOf(gpuIds);
        }

        /**
         * A request any GPU may serve.
         */
        public Request(final int gpuCount, final double fraction, final long megabytes)
        {
            this(gpuCount, fraction, megabytes, List.of(), Set.of());
        }

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

        /**
         * @return whether the request may be placed on this GPU, whatever its free memory.
         */
        boolean admits(final ServerState server, final GpuPoolInfo.Gpu gpu)
        {
            return (gpuIds.isEmpty() || gpuIds.contains(gpu.index())) &&
                filters.stream().allMatch(filter -> filter.matches(server.endpoint(), server.gpus(), gpu));
        }

        /**
         * @return the filters and pins as given, "--filter server.addr=a:1 -l 0,1", or empty.
         */
        String describeChoice()
        {
            final String filtered = filters.stream().map(filter -> "--filter " + filter).collect(Collectors.joining(" "));
            final String pinned = gpuIds.isEmpty() ? "" :
                "-l " + gpuIds.stream().sorted().map(String::valueOf).collect(Collectors.joining(","));
            return (filtered + " " + pinned).strip();
        }
    }

    /**
     * One device of a placed program.
     *
     * @param server   the server its GPU is on.
     * @param gpuIndex the GPU's index on that server.
     */
    public record Device(Endpoint server, int gpuIndex)
    {
    }

    /**
     * A place the request fits.
     *
     * @param devices       the server and GPU of each device ordinal of the program, device 0 first.
     * @param leftOverBytes the unreserved memory the slices leave on those GPUs, together.
     * @param tenants       the slices already open on those GPUs, together.
     */
    public record Candidate(List<Device> devices, long leftOverBytes, int tenants)
    {
        /**
         * @return the servers the devices are on, each once, in device order.
         */
        public List<Endpoint> servers()
        {
            return devices.stream().map(Device::server).distinct().toList();
        }

        /**
         * @return the GPU index of each device ordinal, each on its own server.
         */
        public List<Integer> gpuIndices()
        {
            return devices.stream().map(Device::gpuIndex).toList();
        }

        /**
         * @return the servers, "gpu-a:56001" or "gpu-a:56001, gpu-b:56001", for messages.
         */
        public String describeServers()
        {
            return servers().stream().map(Endpoint::toString).collect(Collectors.joining(", "));
        }
    }

    private record FittingGpu(Endpoint server, int serverOrder, int index, long leftOverBytes, int tenants)
    {
    }

    private record Ranked(Candidate candidate, int serverOrder)
    {
    }

    /**
     * @param pool    what each server that answered reports, in the order the servers were configured.
     * @param request what is asked for.
     * @return where the request fits, best first; empty when fewer GPUs than asked for fit across the whole pool.
     */
    public static List<Candidate> candidates(final List<ServerState> pool, final Request request)
    {
        final List<Ranked> onOneServer = new ArrayList<>();
        final List<FittingGpu> acrossPool = new ArrayList<>();
        for (int order = 0; order < pool.size(); order++)
        {
            final List<FittingGpu> fitting = fitting(pool.get(order), order, request);
            if (fitting.size() >= request.gpuCount())
            {
                onOneServer.add(new Ranked(candidate(fitting.subList(0, request.gpuCount())), order));
            }
            acrossPool.addAll(fitting);
        }
        if (!onOneServer.isEmpty())
        {
            onOneServer.sort(BEST_CANDIDATE);
            return onOneServer.stream().map(Ranked::candidate).toList();
        }
        if (acrossPool.size() < request.gpuCount())
        {
            return List.of();
        }
        acrossPool.sort(BEST_FIT);
        final Set<Candidate> candidates = new LinkedHashSet<>();
        final Candidate best = candidate(acrossPool.subList(0, request.gpuCount()));
        candidates.add(best);
        for (final Endpoint refusing : best.servers())
        {
            final List<FittingGpu> others = acrossPool.stream().filter(gpu -> !gpu.server().equals(refusing)).toList();
            if (others.size() >= request.gpuCount())
            {
                candidates.add(candidate(others.subList(0, request.gpuCount())));
            }
        }
        return List.copyOf(candidates);
    }

    /**
     * Why the request can never be placed on this pool, whatever other clients release: its filters and pins leave
     * fewer GPUs than it asks for, or fewer whose whole memory holds the slice.
     *
     * @param pool    what each server that answered reports.
     * @param request what is asked for.
     * @return one line, or null when enough GPUs could hold the request once free.
     */
    public static String whyNeverFits(final List<ServerState> pool, final Request request)
    {
        int eligible = 0;
        int largeEnough = 0;
        for (final ServerState server : pool)
        {
            for (final GpuPoolInfo.Gpu gpu : server.gpus().gpus())
            {
                if (request.admits(server, gpu))
                {
                    eligible++;
                    largeEnough += request.sliceBytes(gpu.totalBytes()) <= gpu.totalBytes() ? 1 : 0;
                }
            }
        }
        if (largeEnough >= request.gpuCount())
        {
            return null;
        }
        final String choice = request.describeChoice();
        final String wanted = request.gpuCount() + " wanted; " + describePool(pool, !choice.isEmpty());
        if (!choice.isEmpty() && eligible < request.gpuCount())
        {
            return gpus(eligible) + " of the pool match " + choice + ", " + wanted;
        }
        return gpus(largeEnough) + (choice.isEmpty() ? " of the pool" : " matching " + choice) +
            " can ever hold a slice of " + describeSlice(request) + ", " + wanted;
    }

    /**
     * Why nothing was placed now, in words: the request, how many GPUs fit, and what each GPU has.
     *
     * @param pool    what each server that answered reports.
     * @param request what was asked for.
     * @return one line.
     */
    public static String whyNoFit(final List<ServerState> pool, final Request request)
    {
        int fitCount = 0;
        for (int order = 0; order < pool.size(); order++)
        {
            fitCount += fitting(pool.get(order), order, request).size();
        }
        final String choice = request.describeChoice();
        return gpus(fitCount) + " of the pool" + (choice.isEmpty() ? "" : " matching " + choice) +
            " fit the slice now, " + request.gpuCount() + " wanted; " + describePool(pool, !choice.isEmpty());
    }

    private static String describePool(final List<ServerState> pool, final boolean withFacts)
    {
        int gpuCount = 0;
        final StringBuilder gpus = new StringBuilder();
        for (final ServerState server : pool)
        {
            final GpuPoolInfo info = server.gpus();
            gpuCount += info.gpus().size();
            for (final GpuPoolInfo.Gpu gpu : info.gpus())
            {
                gpus.append(gpus.isEmpty() ? "" : ", ").append(server.endpoint()).append(" GPU ").append(gpu.index())
                    .append(' ').append(gpu.unreservedBytes() >> 20).append('/').append(gpu.totalBytes() >> 20)
                    .append(" MiB unreserved");
                if (withFacts)
                {
                    // What the filters compare, so a user sees why theirs matched what it did.
                    gpus.append(" (").append(gpu.name()).append(", host ").append(info.hostname())
                        .append(", CUDA ").append(info.cudaVersion()).append(", driver ").append(info.driverVersion())
                        .append(')');
                }
            }
        }
        return "the pool has " + gpus(gpuCount) + " (" + gpus + ")";
    }

    private static String describeSlice(final Request request)
    {
        if (request.fraction() > 0)
        {
            return request.fraction() + " of the memory";
        }
        return request.megabytes() > 0 ? request.megabytes() + " MiB" : "a whole GPU";
    }

    private static String gpus(final int count)
    {
        return count + " GPU" + (count == 1 ? "" : "s");
    }

    private static Candidate candidate(final List<FittingGpu> chosen)
    {
        return new Candidate(
            chosen.stream().sorted(DEVICE_ORDER).map(gpu -> new Device(gpu.server(), gpu.index())).toList(),
            chosen.stream().mapToLong(FittingGpu::leftOverBytes).sum(),
            chosen.stream().mapToInt(FittingGpu::tenants).sum());
    }

    /**
     * @return the GPUs of one server the request may use and fits now, best fit first.
     */
    private static List<FittingGpu> fitting(final ServerState server, final int order, final Request request)
    {
        final List<FittingGpu> fitting = new ArrayList<>();
        for (final GpuPoolInfo.Gpu gpu : server.gpus().gpus())
        {
            final long sliceBytes = request.sliceBytes(gpu.totalBytes());
            if (request.admits(server, gpu) && sliceBytes <= gpu.unreservedBytes())
            {
                fitting.add(new FittingGpu(
                    server.endpoint(), order, gpu.index(), gpu.unreservedBytes() - sliceBytes, gpu.slices().size()));
            }
        }
        fitting.sort(BEST_FIT);
        return fitting;
    }
}
