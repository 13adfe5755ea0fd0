package dev.bitfusion.agent.pool;

import dev.bitfusion.transport.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlacementTest
{
    private static final long MIB = 1L << 20;
    private static final Endpoint A = new Endpoint("10.0.0.1", 56001);
    private static final Endpoint B = new Endpoint("10.0.0.2", 56001);
    private static final Endpoint C = new Endpoint("10.0.0.3", 56001);

    @Test
    void shouldPlaceThreeGpusOnTheServerThatHasThemWhenTheFirstHasOne()
    {
        // The case: A has one GPU, B two, -n 3 fits nowhere alone; -n 2 fits on B only.
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 2048, 0)), server(B, gpu(0, 2048, 2048, 0), gpu(1, 2048, 2048, 0)));

        assertEquals(List.of(), Placement.candidates(pool, new Placement.Request(3, 0.5, 0)));
        final List<Placement.Candidate> two = Placement.candidates(pool, new Placement.Request(2, 0.5, 0));
        assertEquals(1, two.size());
        assertEquals(B, two.get(0).server());
        assertEquals(List.of(0, 1), two.get(0).gpuIndices());
    }

    @Test
    void shouldSkipAServerWhoseOnlyGpuIsTaken()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 0, 1)), server(B, gpu(0, 2048, 2048, 0)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(1, 0.5, 0));

        assertEquals(List.of(B), candidates.stream().map(Placement.Candidate::server).toList());
    }

    @Test
    void shouldPreferTheGpuTheSliceFillsBest()
    {
        // 1 GiB asked: B's GPU 1 leaves 512 MiB over, A's GPU leaves 3 GiB, B's GPU 0 has no room.
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 4096, 4096, 0)), server(B, gpu(0, 2048, 512, 2), gpu(1, 2048, 1536, 1)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(1, 0, 1024));

        assertEquals(List.of(B, A), candidates.stream().map(Placement.Candidate::server).toList());
        assertEquals(List.of(1), candidates.get(0).gpuIndices());
        assertEquals(512 * MIB, candidates.get(0).leftOverBytes());
    }

    @Test
    void shouldPreferFewerTenantsAmongEqualFits()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 1024, 2)), server(B, gpu(0, 2048, 1024, 1), gpu(1, 2048, 1024, 3)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(1, 0.25, 0));

        assertEquals(List.of(B, A), candidates.stream().map(Placement.Candidate::server).toList());
        assertEquals(List.of(0), candidates.get(0).gpuIndices());
    }

    @Test
    void shouldBreakTiesByServerOrderThenGpuIndex()
    {
        final List<Placement.ServerState> pool = List.of(
            server(C, gpu(0, 2048, 2048, 0), gpu(1, 2048, 2048, 0), gpu(2, 2048, 2048, 0)),
            server(A, gpu(0, 2048, 2048, 0), gpu(1, 2048, 2048, 0)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(2, 0.5, 0));

        assertEquals(List.of(C, A), candidates.stream().map(Placement.Candidate::server).toList());
        assertEquals(List.of(0, 1), candidates.get(0).gpuIndices());
    }

    @Test
    void shouldGiveTheSameOrderForTheSamePoolState()
    {
        final List<Placement.ServerState> pool = new ArrayList<>();
        for (int i = 0; i < 8; i++)
        {
            pool.add(server(new Endpoint("10.0.1." + i, 56001), gpu(0, 2048, 1024 + 128 * (i % 3), i % 2)));
        }
        final Placement.Request request = new Placement.Request(1, 0, 512);

        final List<Placement.Candidate> first = Placement.candidates(pool, request);

        assertEquals(first, Placement.candidates(List.copyOf(pool), request));
        assertEquals(List.of(0, 6, 3, 4, 1, 7, 2, 5), first.stream().map(Placement.Candidate::serverOrder).toList());
    }

    @Test
    void shouldComputeAFractionOfEachGpusOwnMemory()
    {
        // 0.5 of A's 8 GiB GPU is 4 GiB, more than its 3 GiB unreserved; 0.5 of B's 2 GiB fits.
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 8192, 3072, 1)), server(B, gpu(0, 2048, 2048, 0)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(1, 0.5, 0));

        assertEquals(List.of(B), candidates.stream().map(Placement.Candidate::server).toList());
    }

    @Test
    void shouldAskForWholeGpusWhenNoSliceIsGiven()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 2047, 1)), server(B, gpu(0, 2048, 2048, 0)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(1, 0, 0));

        assertEquals(List.of(B), candidates.stream().map(Placement.Candidate::server).toList());
    }

    @Test
    void shouldSayWhenEnoughGpusFitOnlyAcrossServers()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 2048, 0)), server(B, gpu(0, 2048, 2048, 0), gpu(1, 2048, 2048, 0)));

        final String why = Placement.whyNoFit(pool, new Placement.Request(3, 0.5, 0));

        assertTrue(why.contains("no single server has 3 GPUs"), why);
        assertTrue(why.contains("across servers is not supported yet"), why);
        assertTrue(why.contains("the pool has 3 GPUs"), why);
        assertTrue(why.contains(B + " GPU 1 2048/2048 MiB unreserved"), why);
    }

    @Test
    void shouldSayHowManyFitWhenTooFewDo()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 0, 1)), server(B, gpu(0, 2048, 2048, 0)));

        final String why = Placement.whyNoFit(pool, new Placement.Request(2, 0.5, 0));

        assertTrue(why.startsWith("1 GPU of the pool fit the slice, 2 wanted"), why);
        assertTrue(why.contains(A + " GPU 0 0/2048 MiB unreserved"), why);
    }

    private static Placement.ServerState server(final Endpoint endpoint, final GpuPoolInfo.Gpu... gpus)
    {
        return new Placement.ServerState(
            endpoint, new GpuPoolInfo("emulated", 1, 0, List.of(gpus), "host", "13.0", "emulated"));
    }

    /** A GPU with as many tenants' slices as given, sharing what is reserved. */
    private static GpuPoolInfo.Gpu gpu(final int index, final long totalMib, final long unreservedMib, final int tenants)
    {
        final List<GpuPoolInfo.Slice> slices = new ArrayList<>();
        for (int i = 0; i < tenants; i++)
        {
            slices.add(new GpuPoolInfo.Slice(i + 1, "", (totalMib - unreservedMib) * MIB / tenants, 0));
        }
        return new GpuPoolInfo.Gpu(index, "emulated", totalMib * MIB, unreservedMib * MIB, 0, slices);
    }
}
