package dev.bitfusion.benchmarks;

import dev.bitfusion.benchmarks.transport.BandwidthBenchmark;
import dev.bitfusion.benchmarks.fuzz.WireFuzzRun;
import dev.bitfusion.benchmarks.pool.PlacementBenchmark;
import dev.bitfusion.benchmarks.transport.BridgeBenchmark;
import dev.bitfusion.benchmarks.transport.PeerCopyBenchmark;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;

/**
 * Runs the benchmarks, writes JMH's JSON to {@code benchmarks/target/results.json}, and prints each figure
 * beside its baseline from the same run, as a ratio against the goal.
 * <p>
 * Arguments: optional regular expressions selecting JMH benchmarks (default: all of this project's, then
 * the bridge's end-to-end benchmark, the copy between servers and the placement benchmark); "Bridge" alone runs only
 * the bridge's; "PeerCopy" only the copy between two servers, server to server vs through the client
 * ({@link PeerCopyBenchmark}); "Placement" only bitfusion run's placement over 1, 4 and 16 servers
 * ({@link PlacementBenchmark}); "WireFuzz [MESSAGES [SEED]]" runs the long fuzz run of the wire instead
 * ({@link WireFuzzRun}).
 */
public final class BenchmarkSuite
{
    private BenchmarkSuite()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        if (args.length > 0 && args[0].equals("WireFuzz"))
        {
            WireFuzzRun.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        if (args.length == 1 && args[0].equals("PeerCopy"))
        {
            PeerCopyBenchmark.run(System.out);
            return;
        }
        if (args.length == 1 && args[0].equals("Placement"))
        {
            PlacementBenchmark.run(System.out);
            return;
        }
        final Path results = Path.of(System.getProperty("bitfusion.benchmarks.results", "benchmarks/target/results.json"));
        Files.createDirectories(results.toAbsolutePath().getParent());
        final ChainedOptionsBuilder options = new OptionsBuilder()
            .resultFormat(ResultFormatType.JSON)
            .result(results.toString());
        if (args.length == 0)
        {
            options.include("dev\\.bitfusion\\.benchmarks\\..*");
        }
        for (final String pattern : args)
        {
            options.include(pattern);
        }
        final boolean bridge = args.length == 0 || String.join(" ", args).contains("Bridge");
        final boolean jmh = args.length == 0 || !String.join(" ", args).equals("Bridge");
        if (jmh)
        {
            final Collection<RunResult> runResults = new Runner(options.build()).run();
            printTable(runResults, System.out);
            System.out.println("JMH results: " + results.toAbsolutePath());
        }
        if (bridge)
        {
            BridgeBenchmark.run(System.out);
        }
        if (args.length == 0)
        {
            PeerCopyBenchmark.run(System.out);
            PlacementBenchmark.run(System.out);
        }
    }

    static void printTable(final Collection<RunResult> runResults, final PrintStream out)
    {
        out.println();
        out.println("bitfusion benchmarks (each beside its baseline from this run)");
        out.printf(Locale.ROOT, "%-44s %14s %14s %10s %s%n", "measure", "ours", "baseline", "ratio", "goal");
        for (final String transport : new String[]{ "ipc", "udp" })
        {
            final double call = score(runResults, "RoundTripBenchmark.syncCall", transport, "off");
            final double pingPong = score(runResults, "RoundTripBenchmark.aeronPingPongBaseline", transport, "off");
            if (!Double.isNaN(call))
            {
                out.printf(Locale.ROOT, "%-44s %11.2f us %11.2f us %10.2f %s%n",
                    "sync round trip vs Aeron ping-pong (" + transport + ")", call, pingPong, call / pingPong, "<= 1.5");
            }
            final double rate = score(runResults, "AsyncCallRateBenchmark.asyncMemset", transport, "off");
            if (!Double.isNaN(rate))
            {
                out.printf(Locale.ROOT, "%-44s %11.0f /s %14s %10s %s%n",
                    "async 4-byte memsets executed (" + transport + ")", rate, "-", "-", ">= 1,000,000/s over ipc");
            }
            final double memcpy = gigabytesPerSecond(score(runResults, "BandwidthBenchmark.memcpyBaseline", transport, "off"));
            for (final String direction : new String[]{ "hostToDevice", "deviceToHost" })
            {
                final double bandwidth =
                    gigabytesPerSecond(score(runResults, "BandwidthBenchmark." + direction, transport, "off"));
                if (!Double.isNaN(bandwidth))
                {
                    out.printf(Locale.ROOT, "%-44s %9.2f GB/s %9.2f GB/s %10.2f %s%n",
                        direction + " 64 MiB vs memcpy (" + transport + ")", bandwidth, memcpy, bandwidth / memcpy,
                        ">= 0.5 over ipc");
                }
            }
        }
        printAuthenticationCost(runResults, out);
        final double vectorAddsPerSecond = score(runResults, "InterpreterBenchmark.vectorAdd1M", null);
        if (!Double.isNaN(vectorAddsPerSecond))
        {
            out.printf(Locale.ROOT, "%-44s %11.1f ms %14s %10s %s%n",
                "emulator: 1M-element vector add launch", 1000.0 / vectorAddsPerSecond, "-", "-", "< 1000 ms");
        }
    }

    /**
     * What a token and encryption cost: each figure with the server requiring a token (every request fragment tagged
     * and checked), then requiring encrypted sessions (requests and replies encrypted and tagged), beside the same
     * without a token, from the same run.
     */
    private static void printAuthenticationCost(final Collection<RunResult> runResults, final PrintStream out)
    {
        for (final String transport : new String[]{ "ipc", "udp" })
        {
            for (final String authentication : new String[]{ "token", "encrypted" })
            {
                printAuthenticationCost(runResults, out, transport, authentication);
            }
        }
    }

    private static void printAuthenticationCost(
        final Collection<RunResult> runResults, final PrintStream out, final String transport, final String authentication)
    {
        final String versus = ", " + authentication + " vs none (" + transport + ")";
        final double call = score(runResults, "RoundTripBenchmark.syncCall", transport, authentication);
        if (!Double.isNaN(call))
        {
            final double without = score(runResults, "RoundTripBenchmark.syncCall", transport, "off");
            out.printf(Locale.ROOT, "%-44s %11.2f us %11.2f us %10.2f %s%n",
                "sync round trip" + versus, call, without, call / without, "-");
        }
        final double rate = score(runResults, "AsyncCallRateBenchmark.asyncMemset", transport, authentication);
        if (!Double.isNaN(rate))
        {
            final double without = score(runResults, "AsyncCallRateBenchmark.asyncMemset", transport, "off");
            out.printf(Locale.ROOT, "%-44s %11.0f /s %11.0f /s %10.2f %s%n",
                "async memsets" + versus, rate, without, rate / without, "-");
        }
        for (final String direction : new String[]{ "hostToDevice", "deviceToHost" })
        {
            final double bandwidth =
                gigabytesPerSecond(score(runResults, "BandwidthBenchmark." + direction, transport, authentication));
            if (!Double.isNaN(bandwidth))
            {
                final double without =
                    gigabytesPerSecond(score(runResults, "BandwidthBenchmark." + direction, transport, "off"));
                out.printf(Locale.ROOT, "%-44s %9.2f GB/s %9.2f GB/s %10.2f %s%n",
                    direction + versus, bandwidth, without, bandwidth / without, "-");
            }
        }
    }

    private static double gigabytesPerSecond(final double milliseconds)
    {
        return BandwidthBenchmark.BYTES / (milliseconds / 1000.0) / 1e9;
    }

    private static double score(final Collection<RunResult> runResults, final String benchmark, final String transport)
    {
        return score(runResults, benchmark, transport, null);
    }

    /**
     * @param authentication "off", "token", "encrypted", or null for benchmarks without that parameter.
     */
    private static double score(
        final Collection<RunResult> runResults, final String benchmark, final String transport, final String authentication)
    {
        for (final RunResult result : runResults)
        {
            final String label = result.getParams().getBenchmark();
            final String resultTransport = result.getParams().getParam("transport");
            final String resultAuthentication = result.getParams().getParam("authentication");
            if (label.endsWith(benchmark) && (transport == null || transport.equals(resultTransport)) &&
                (authentication == null || authentication.equals(resultAuthentication)))
            {
                return result.getPrimaryResult().getScore();
            }
        }
        return Double.NaN;
    }
}
