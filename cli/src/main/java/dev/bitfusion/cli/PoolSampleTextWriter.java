package dev.bitfusion.cli;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;

import java.io.IOException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * {@code bitfusion smi} for people, one block per server, nvidia-smi style:
 * <pre>
 * bitfusion smi  2024-05-01 12:00:00  rates over the last 1.0 s
 *
 * 10.0.0.5:56001 (gpu-a)  cuda, driver 560.35.03, CUDA 12.4, protocol 5, 2 sessions, 1 client waiting for room
 *   GPU  NAME                          TOTAL     RESERVED  ALLOCATED
 *   0    NVIDIA H100 80GB HBM3     81559 MiB    40779 MiB   1024 MiB
 *        RESERVATION      SLICE  ALLOCATED      AGE  SESSIONS    CALLS/S      BYTES/S  HOST         PID  COMMAND
 *        3            40779 MiB   1024 MiB    1m05s         2     1234.5    96.5 KiB  ws1         4242  python train.py
 *
 * 10.0.0.6:56001  UNREACHABLE: no answer from bitfusion server 10.0.0.6:56001 within 3000 ms (...)
 * </pre>
 * A slice's client shows its host, pid and command when its id says them, else the id as listed (for a tenant the
 * asker may not see: "(another tenant)"). A rate shows "-" until the slice has been seen twice.
 * <p>
 * Thread safety: stateless.
 */
final class PoolSampleTextWriter
{
    private static final DateTimeFormatter TIME =
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT).withZone(ZoneId.systemDefault());
    private static final String GPU_FORMAT = "  %-4s %-24s %12s %12s %12s%n";
    private static final String SLICE_FORMAT = "       %-12s %10s %10s %8s %9s %10s %12s  %-12s %7s  %s%n";
    private static final String[] BYTE_UNITS = { "B", "KiB", "MiB", "GiB", "TiB" };

    /**
     * @param sample the look at the pool.
     * @param out    where the text goes.
     */
    void write(final PoolSample sample, final Appendable out) throws IOException
    {
        out.append("bitfusion smi  ").append(TIME.format(Instant.ofEpochMilli(sample.timestampMs())));
        if (sample.intervalMs() > 0)
        {
            out.append(String.format(Locale.ROOT, "  rates over the last %.1f s", sample.intervalMs() / 1000.0));
        }
        out.append('\n');
        for (final PoolQuery.Answer answer : sample.answers())
        {
            out.append('\n');
            writeServer(sample, answer, out);
        }
    }

    private static void writeServer(final PoolSample sample, final PoolQuery.Answer answer, final Appendable out)
        throws IOException
    {
        final GpuPoolInfo pool = answer.gpus();
        if (pool == null)
        {
            out.append(answer.server().toString()).append("  ").append(answer.refused() ? "REFUSED" : "UNREACHABLE")
                .append(": ").append(answer.error()).append('\n');
            return;
        }
        out.append(String.format(Locale.ROOT, "%s%s  %s, driver %s, CUDA %s, protocol %d, %d session%s%s%n",
            answer.server(), pool.hostname().isEmpty() ? "" : " (" + pool.hostname() + ")", pool.backend(),
            orDash(pool.driverVersion()), orDash(pool.cudaVersion()), pool.protocolVersion(), pool.openSessions(),
            pool.openSessions() == 1 ? "" : "s",
            answer.waiters() > 0 ? ", " + answer.waiters() + " client" + (answer.waiters() == 1 ? "" : "s") +
            " waiting for room" : ""));
        out.append(String.format(Locale.ROOT, GPU_FORMAT, "GPU", "NAME", "TOTAL", "RESERVED", "ALLOCATED"));
        for (final GpuPoolInfo.Gpu gpu : pool.gpus())
        {
            out.append(String.format(Locale.ROOT, GPU_FORMAT, gpu.index(), gpu.name(), mebibytes(gpu.totalBytes()),
                mebibytes(gpu.totalBytes() - gpu.unreservedBytes()), mebibytes(gpu.allocatedBytes())));
            if (gpu.slices().isEmpty())
            {
                continue;
            }
            out.append(String.format(Locale.ROOT, SLICE_FORMAT, "RESERVATION", "SLICE", "ALLOCATED", "AGE",
                "SESSIONS", "CALLS/S", "BYTES/S", "HOST", "PID", "COMMAND"));
            for (final GpuPoolInfo.Slice slice : gpu.slices())
            {
                final PoolSample.Rate rate = sample.rateOf(answer.server(), slice);
                final ClientIdentity client = ClientIdentity.parse(slice.clientId());
                final boolean parsed = client.pid() != null;
                out.append(String.format(Locale.ROOT, SLICE_FORMAT, slice.sessionId(), mebibytes(slice.sliceBytes()),
                    mebibytes(slice.allocatedBytes()), age(slice.ageMs()),
                    slice.sessions() >= 0 ? Integer.toString(slice.sessions()) : "-",
                    rate != null ? String.format(Locale.ROOT, "%.1f", rate.callsPerSecond()) : "-",
                    rate != null ? bytes(rate.bytesPerSecond()) : "-",
                    parsed ? client.host() : "-",
                    parsed ? Long.toString(client.pid()) : "-",
                    parsed ? (client.command() != null ? client.command() : "-") : client.id()));
            }
        }
    }

    private static String orDash(final String text)
    {
        return text.isEmpty() ? "-" : text;
    }

    private static String mebibytes(final long bytes)
    {
        return (bytes >> 20) + " MiB";
    }

    /**
     * @return e.g. "1h02m", "3m05s", "12s"; "-" when the server does not say.
     */
    static String age(final long ageMs)
    {
        if (ageMs < 0)
        {
            return "-";
        }
        final long seconds = ageMs / 1000;
        if (seconds >= 3600)
        {
            return String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, seconds % 3600 / 60);
        }
        if (seconds >= 60)
        {
            return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
        }
        return seconds + "s";
    }

    /**
     * @return e.g. "512 B", "96.5 KiB", "1.2 GiB".
     */
    static String bytes(final double bytes)
    {
        int unit = 0;
        double value = bytes;
        while (value >= 1024 && unit < BYTE_UNITS.length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? String.format(Locale.ROOT, "%.0f B", value) :
            String.format(Locale.ROOT, "%.1f %s", value, BYTE_UNITS[unit]);
    }
}
