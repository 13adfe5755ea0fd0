package dev.bitfusion.cli;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.transport.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class PoolSampleTest
{
    static final Endpoint SERVER_A = new Endpoint("10.0.0.5", 56001);
    static final Endpoint SERVER_B = new Endpoint("10.0.0.6", 56001);

    @Test
    void shouldHaveNoRatesInTheFirstLook()
    {
        final PoolSample first = PoolSample.of(List.of(answer(SERVER_A, slice(3, 10_000, 100, 5000))), 1_000, null);

        assertNull(first.rateOf(SERVER_A, slice(3, 10_000, 100, 5000)));
        assertEquals(0, first.intervalMs());
    }

    @Test
    void shouldRateASliceOverTheServersOwnIntervalBetweenTwoLooks()
    {
        final PoolSample first = PoolSample.of(List.of(answer(SERVER_A, slice(3, 10_000, 100, 5000))), 1_000, null);
        // The client's two looks are 1.5 s apart, the server's listings 2 s apart: the server's interval counts.
        final GpuPoolInfo.Slice later = slice(3, 12_000, 700, 9000);

        final PoolSample second = PoolSample.of(List.of(answer(SERVER_A, later)), 2_500, first);

        assertEquals(1_500, second.intervalMs());
        assertEquals(new PoolSample.Rate(300.0, 2000.0), second.rateOf(SERVER_A, later));
    }

    @Test
    void shouldNotRateASliceSeenOnceOrOnAnotherServerOrOfAnotherReservationUnderTheSameId()
    {
        final PoolSample first = PoolSample.of(List.of(
            answer(SERVER_A, slice(3, 10_000, 100, 5000)), unreachable(SERVER_B)), 1_000, null);
        final GpuPoolInfo.Slice fresh = slice(4, 500, 10, 10);
        final GpuPoolInfo.Slice onB = slice(3, 20_000, 900, 9000);
        // The server restarted and gave id 3 to a new reservation: younger than the one seen before.
        final GpuPoolInfo.Slice reused = slice(3, 800, 1000, 6000);

        final PoolSample second = PoolSample.of(List.of(answer(SERVER_A, reused, fresh), answer(SERVER_B, onB)), 2_000, first);

        assertNull(second.rateOf(SERVER_A, fresh));
        assertNull(second.rateOf(SERVER_B, onB));
        assertNull(second.rateOf(SERVER_A, reused));
    }

    @Test
    void shouldNotRateASliceOfAServerThatDoesNotSayItsTraffic()
    {
        final GpuPoolInfo.Slice unknown = new GpuPoolInfo.Slice(3, "c", 1, 0, -1, -1, -1, -1);
        final PoolSample first = PoolSample.of(List.of(answer(SERVER_A, unknown)), 1_000, null);

        assertNull(PoolSample.of(List.of(answer(SERVER_A, unknown)), 2_000, first).rateOf(SERVER_A, unknown));
    }

    static GpuPoolInfo.Slice slice(final long reservation, final long ageMs, final long calls, final long bytes)
    {
        return new GpuPoolInfo.Slice(reservation, "ann@ws1:4242 (4242@ws1) bitfusion run: train [bitfusion run t]",
            1L << 30, 1L << 20, ageMs, 2, calls, bytes);
    }

    static PoolQuery.Answer answer(final Endpoint server, final GpuPoolInfo.Slice... slices)
    {
        return new PoolQuery.Answer(server, new GpuPoolInfo("emulated", 5, 2 * slices.length, List.of(
            new GpuPoolInfo.Gpu(0, "Bitfusion Emulated GPU", 4L << 30, 3L << 30, 1L << 20, List.of(slices))),
            "gpu-host", "13.0", "emulated"),
            null, 3, -1, false);
    }

    static PoolQuery.Answer unreachable(final Endpoint server)
    {
        return new PoolQuery.Answer(
            server, null, "no answer from bitfusion server " + server + " within 3000 ms", 0, -1, false);
    }
}
