package dev.bitfusion.cli;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static dev.bitfusion.cli.PoolSampleTest.SERVER_A;
import static dev.bitfusion.cli.PoolSampleTest.SERVER_B;
import static dev.bitfusion.cli.PoolSampleTest.answer;
import static dev.bitfusion.cli.PoolSampleTest.slice;
import static dev.bitfusion.cli.PoolSampleTest.unreachable;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolSampleTextWriterTest
{
    @Test
    void shouldShowEachSliceWithItsClientAndRatesAndWhyAServerIsMissing() throws IOException
    {
        final PoolSample first = PoolSample.of(List.of(answer(SERVER_A, slice(3, 65_000, 100, 5000)),
            unreachable(SERVER_B)), 1_000, null);
        final GpuPoolInfo.Slice other = new GpuPoolInfo.Slice(9, "(another tenant)", 1L << 30, 0, 3_000, 1, 0, 0);
        final PoolSample second = PoolSample.of(List.of(answer(SERVER_A, slice(3, 66_000, 1334, 5000 + 99_000), other),
            unreachable(SERVER_B)), 2_000, first);
        final StringBuilder out = new StringBuilder();

        new PoolSampleTextWriter().write(second, out);

        final List<String> lines = out.toString().lines().toList();
        assertTrue(lines.get(0).startsWith("bitfusion smi  "), out::toString);
        assertTrue(lines.get(0).endsWith("rates over the last 1.0 s"), out::toString);
        assertTrue(out.toString().contains("10.0.0.5:56001 (gpu-host)  emulated, driver emulated, CUDA 13.0, protocol 5, 4 sessions, " +
            "3 clients waiting for room\n"),
            out::toString);
        final String held = line(lines, "       3 ");
        assertEquals(List.of("3", "1024", "MiB", "1", "MiB", "1m06s", "2", "1234.0", "96.7", "KiB", "ws1", "4242", "train"),
            List.of(held.trim().split(" +")), held);
        final String hidden = line(lines, "       9 ");
        // Seen once: no rate. Its id says no host, pid or command: shown whole.
        assertEquals(List.of("9", "1024", "MiB", "0", "MiB", "3s", "1", "-", "-", "-", "-", "(another", "tenant)"),
            List.of(hidden.trim().split(" +")), hidden);
        assertTrue(out.toString().contains("\n10.0.0.6:56001  UNREACHABLE: no answer from bitfusion server " +
            "10.0.0.6:56001 within 3000 ms\n"), out::toString);
    }

    @Test
    void shouldWriteAgesAndByteRatesShortly()
    {
        assertEquals("-", PoolSampleTextWriter.age(-1));
        assertEquals("59s", PoolSampleTextWriter.age(59_999));
        assertEquals("1m00s", PoolSampleTextWriter.age(60_000));
        assertEquals("2h05m", PoolSampleTextWriter.age((2 * 3600 + 5 * 60 + 59) * 1000L));
        assertEquals("512 B", PoolSampleTextWriter.bytes(512));
        assertEquals("1.5 KiB", PoolSampleTextWriter.bytes(1536));
        assertEquals("2.0 GiB", PoolSampleTextWriter.bytes(2.0 * (1L << 30)));
    }

    private static String line(final List<String> lines, final String prefix)
    {
        return lines.stream().filter(line -> line.startsWith(prefix)).findFirst()
            .orElseThrow(() -> new AssertionError("no line starting '" + prefix + "' in " + lines));
    }
}
