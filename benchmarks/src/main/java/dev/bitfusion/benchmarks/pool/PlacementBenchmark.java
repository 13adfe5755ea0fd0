package dev.bitfusion.benchmarks.pool;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.Placement;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.agent.pool.ReservationHolder;
import dev.bitfusion.server.GpuServer;
import dev.bitfusion.server.ServerErrorLog;
import dev.bitfusion.server.backend.emulated.EmulatedBackend;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.auth.Credentials;
import org.agrona.CloseHelper;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.DatagramSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How long {@code bitfusion run} takes to place a 1-GPU request as the pool grows: ask every server at once
 * ({@link PoolQuery#listGpusOfAll}), order the places ({@link Placement#candidates}), reserve the best one
 * ({@link ReservationHolder#hold}, a hold-only session over UDP, as to a server on another host) and release it, over
 * pools of 1, 4 and 16 emulated servers started in this JVM. Beside it, from the same run, the baseline: one
 * {@code ListGpus} round trip to one server ({@link PoolQuery#listGpus}).
 * <p>
 * Each pool size has one warm-up placement, then {@link #REPETITIONS} timed ones; between them, untimed, the server
 * is asked until it has freed the slice, so every placement finds the pool idle. Reported: the median and the range
 * (fastest to slowest) of the whole step and of its two parts, asking the pool and reserving plus releasing, and the
 * median against one server's. Figures also go to {@code benchmarks/target/placement-results.json}.
 * <p>
 * Run by {@code benchmarks/run Placement}.
 */
public final class PlacementBenchmark
{
    /** The pool sizes, in servers of one GPU each. */
    private static final int[] POOL_SIZES = { 1, 4, 16 };
    /** Timed placements per pool size, after one warm-up. */
    private static final int REPETITIONS = 9;
    private static final long GPU_BYTES = 1024L << 20;
    private static final double SLICE_FRACTION = 0.5;
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(10);
    private static final Path RESULTS = Path.of("benchmarks", "target", "placement-results.json");

    private PlacementBenchmark()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        run(System.out);
    }

    /**
     * Times of one pool size, in milliseconds, one per repetition.
     *
     * @param servers the pool's size.
     * @param ask     asking every server.
     * @param reserve placing, reserving and releasing.
     * @param total   the whole step.
     */
    record Times(int servers, double[] ask, double[] reserve, double[] total)
    {
    }

    /**
     * @param out where the table goes.
     * @return the figures by name, also written to benchmarks/target/placement-results.json.
     */
    public static Map<String, Double> run(final PrintStream out) throws Exception
    {
        final List<Times> times = new ArrayList<>();
        double[] baseline = null;
        for (final int size : POOL_SIZES)
        {
            final List<GpuServer> servers = new ArrayList<>();
            try
            {
                final List<Endpoint> pool = new ArrayList<>();
                for (int i = 0; i < size; i++)
                {
                    final GpuServer server = launch();
                    servers.add(server);
                    pool.add(server.context().endpoint());
                }
                times.add(time(pool));
                if (baseline == null)
                {
                    baseline = listGpusRoundTrips(pool.get(0));
                }
            }
            finally
            {
                CloseHelper.quietCloseAll(servers);
            }
        }

        final Map<String, Double> figures = new LinkedHashMap<>();
        for (final Times pool : times)
        {
            final String prefix = "placement_" + pool.servers() + "_servers_";
            figures.put(prefix + "median_ms", median(pool.total()));
            figures.put(prefix + "min_ms", min(pool.total()));
            figures.put(prefix + "max_ms", max(pool.total()));
            figures.put(prefix + "ask_median_ms", median(pool.ask()));
            figures.put(prefix + "reserve_median_ms", median(pool.reserve()));
        }
        figures.put("list_gpus_round_trip_median_ms", median(baseline));
        figures.put("list_gpus_round_trip_min_ms", min(baseline));
        figures.put("list_gpus_round_trip_max_ms", max(baseline));
        print(times, baseline, out);
        writeJson(figures);
        return figures;
    }

    private static GpuServer launch() throws IOException
    {
        final int port;
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            port = socket.getLocalPort();
        }
        return GpuServer.launch(new GpuServer.Context()
            .endpoint(new Endpoint("127.0.0.1", port))
            .backend(new EmulatedBackend(1, GPU_BYTES))
            .errorLog(new ServerErrorLog(new PrintStream(OutputStream.nullOutputStream()))));
    }

    private static Times time(final List<Endpoint> pool) throws InterruptedException
    {
        final Credentials credentials = ClientSettings.discoverQueryCredentials();
        final Placement.Request request = new Placement.Request(1, SLICE_FRACTION, 0);
        final double[] ask = new double[REPETITIONS];
        final double[] reserve = new double[REPETITIONS];
        final double[] total = new double[REPETITIONS];
        for (int i = -1; i < REPETITIONS; i++)
        {
            final long startNs = System.nanoTime();
            final List<Placement.ServerState> states = new ArrayList<>();
            for (final PoolQuery.Answer answer : PoolQuery.listGpusOfAll(pool, credentials, TIMEOUT_NS))
            {
                if (answer.gpus() == null)
                {
                    throw new IllegalStateException("server " + answer.server() + " did not answer: " + answer.error());
                }
                states.add(new Placement.ServerState(answer.server(), answer.gpus()));
            }
            final long askedNs = System.nanoTime();
            final List<Placement.Candidate> candidates = Placement.candidates(states, request);
            if (candidates.isEmpty())
            {
                throw new IllegalStateException("the idle pool has no room: " + Placement.whyNoFit(states, request));
            }
            final Placement.Candidate best = candidates.get(0);
            final ReservationHolder holder = ReservationHolder.hold(
                best.devices().stream().map(Placement.Device::server).toList(),
                best.gpuIndices().stream().mapToInt(Integer::intValue).toArray(),
                new ClientSettings().gpuCount(1).memoryFraction(SLICE_FRACTION).transport("udp")
                    .clientId("placement benchmark"));
            holder.close();
            final long endNs = System.nanoTime();
            if (i >= 0)
            {
                ask[i] = (askedNs - startNs) / 1e6;
                reserve[i] = (endNs - askedNs) / 1e6;
                total[i] = (endNs - startNs) / 1e6;
            }
            awaitFreed(best.devices().get(0).server(), credentials);
        }
        return new Times(pool.size(), ask, reserve, total);
    }

    private static double[] listGpusRoundTrips(final Endpoint server)
    {
        final Credentials credentials = ClientSettings.discoverQueryCredentials();
        final double[] millis = new double[REPETITIONS];
        PoolQuery.listGpus(server, credentials, "", TIMEOUT_NS);
        for (int i = 0; i < REPETITIONS; i++)
        {
            final long startNs = System.nanoTime();
            PoolQuery.listGpus(server, credentials, "", TIMEOUT_NS);
            millis[i] = (System.nanoTime() - startNs) / 1e6;
        }
        return millis;
    }

    /**
     * The holder's close is a message: wait, untimed, for the server to have freed the slice.
     */
    private static void awaitFreed(final Endpoint server, final Credentials credentials) throws InterruptedException
    {
        final long deadlineNs = System.nanoTime() + TIMEOUT_NS;
        while (System.nanoTime() < deadlineNs)
        {
            final GpuPoolInfo pool = PoolQuery.listGpus(server, credentials, "", TIMEOUT_NS);
            if (pool.gpus().stream().allMatch(gpu -> gpu.slices().isEmpty()))
            {
                return;
            }
            Thread.sleep(10);
        }
        throw new IllegalStateException("server " + server + " still holds the benchmark's slice");
    }

    private static void print(final List<Times> times, final double[] baseline, final PrintStream out)
    {
        out.println();
        out.println("bitfusion placement: bitfusion run's ask + place + reserve + release of 1 GPU, emulated servers in " +
            "one JVM, " + REPETITIONS + " repetitions each (median, fastest..slowest)");
        out.printf(Locale.ROOT, "  %-8s %28s %28s %28s %12s%n", "servers", "whole step", "ask the pool",
            "reserve + release", "vs 1 server");
        final double one = median(times.get(0).total());
        for (final Times pool : times)
        {
            out.printf(Locale.ROOT, "  %-8d %28s %28s %28s %12.2f%n", pool.servers(), spread(pool.total()),
                spread(pool.ask()), spread(pool.reserve()), median(pool.total()) / one);
        }
        out.printf(Locale.ROOT, "  baseline: one ListGpus round trip to one server %s%n", spread(baseline));
        out.printf(Locale.ROOT, "  growth: %d servers take %.2f times as long as 1%n",
            times.get(times.size() - 1).servers(), median(times.get(times.size() - 1).total()) / one);
    }

    private static String spread(final double[] millis)
    {
        return String.format(Locale.ROOT, "%.1f ms (%.1f..%.1f)", median(millis), min(millis), max(millis));
    }

    private static double median(final double[] values)
    {
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        final int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static double min(final double[] values)
    {
        return Arrays.stream(values).min().orElseThrow();
    }

    private static double max(final double[] values)
    {
        return Arrays.stream(values).max().orElseThrow();
    }

    private static void writeJson(final Map<String, Double> figures) throws IOException
    {
        Files.createDirectories(RESULTS.toAbsolutePath().getParent());
        final StringBuilder json = new StringBuilder("{");
        figures.forEach((name, value) ->
            json.append(json.length() > 1 ? "," : "").append('"').append(name).append("\":")
                .append(String.format(Locale.ROOT, "%.3f", value)));
        Files.writeString(RESULTS, json.append("}\n"));
        System.out.println("placement results: " + RESULTS.toAbsolutePath());
    }
}
