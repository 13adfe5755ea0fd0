package dev.bitfusion.agent.pool;

import dev.bitfusion.transport.Endpoint;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlacementTest
{
    private static final long MIB = 1L << 20;
    private static final Endpoint A = new Endpoint("10.0.0.1", 56001);
    private static final Endpoint B = new Endpoint("10.0.0.2", 56001);
    private static final Endpoint C = new Endpoint("10.0.0.3", 56001);

    @Test
    void shouldPlaceTwoGpusOnTheServerThatHasThemWhenTheFirstHasOne()
    {
        // The case: A has one GPU, B two; -n 2 fits on B alone, which is kept to one server.
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 2048, 0)), server(B, gpu(0, 2048, 2048, 0), gpu(1, 2048, 2048, 0)));

        final List<Placement.Candidate> two = Placement.candidates(pool, new Placement.Request(2, 0.5, 0));

        assertEquals(1, two.size());
        assertEquals(List.of(B), two.get(0).servers());
        assertEquals(List.of(0, 1), two.get(0).gpuIndices());
    }

    @Test
    void shouldPlaceAcrossServersWhenNoServerHasEnough()
    {
        // -n 3 fits on no server alone: device 0 on A, devices 1 and 2 on B, in the order of the list.
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 2048, 0)), server(B, gpu(0, 2048, 2048, 0), gpu(1, 2048, 2048, 0)));

        final List<Placement.Candidate> three = Placement.candidates(pool, new Placement.Request(3, 0.5, 0));

        assertEquals(List.of(device(A, 0), device(B, 0), device(B, 1)), three.get(0).devices());
        assertEquals(List.of(A, B), three.get(0).servers());
        assertEquals(1, three.size(), "leaving out either server leaves too few GPUs");
    }

    @Test
    void shouldPickTheBestFittingGpusAcrossServersAndOfferOnesWithoutEachServerNext()
    {
        // Two GPUs wanted, one free per server: B's and C's leave the least over, A's the most.
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 8192, 8192, 0)), server(B, gpu(0, 2048, 1536, 1)), server(C, gpu(0, 2048, 2048, 0)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(2, 0, 1024));

        assertEquals(List.of(
            List.of(device(B, 0), device(C, 0)),
            List.of(device(A, 0), device(C, 0)),
            List.of(device(A, 0), device(B, 0))), candidates.stream().map(Placement.Candidate::devices).toList());
        assertEquals(512 * MIB + 1024 * MIB, candidates.get(0).leftOverBytes());
        assertEquals(1, candidates.get(0).tenants());
    }

    @Test
    void shouldPreferFewerTenantsPerGpuAcrossServers()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 1024, 2)), server(B, gpu(0, 2048, 1024, 1)), server(C, gpu(0, 2048, 1024, 0)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(2, 0.25, 0));

        assertEquals(List.of(device(B, 0), device(C, 0)), candidates.get(0).devices());
    }

    @Test
    void shouldKeepToOneServerWhenOneFitsThoughGpusAcrossServersFitBetter()
    {
        // B's two GPUs fit; A's and C's would leave less over, but one server is preferred when one has enough.
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 1024, 1)), server(B, gpu(0, 4096, 4096, 0), gpu(1, 4096, 4096, 0)),
            server(C, gpu(0, 2048, 1024, 1)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(2, 0, 1024));

        assertEquals(1, candidates.size());
        assertEquals(List.of(device(B, 0), device(B, 1)), candidates.get(0).devices());
    }

    @Test
    void shouldSkipAServerWhoseOnlyGpuIsTaken()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 0, 1)), server(B, gpu(0, 2048, 2048, 0)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(1, 0.5, 0));

        assertEquals(List.of(List.of(B)), candidates.stream().map(Placement.Candidate::servers).toList());
    }

    @Test
    void shouldPreferTheGpuTheSliceFillsBest()
    {
        // 1 GiB asked: B's GPU 1 leaves 512 MiB over, A's GPU leaves 3 GiB, B's GPU 0 has no room.
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 4096, 4096, 0)), server(B, gpu(0, 2048, 512, 2), gpu(1, 2048, 1536, 1)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(1, 0, 1024));

        assertEquals(List.of(List.of(B), List.of(A)), candidates.stream().map(Placement.Candidate::servers).toList());
        assertEquals(List.of(1), candidates.get(0).gpuIndices());
        assertEquals(512 * MIB, candidates.get(0).leftOverBytes());
    }

    @Test
    void shouldPreferFewerTenantsAmongEqualFits()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 1024, 2)), server(B, gpu(0, 2048, 1024, 1), gpu(1, 2048, 1024, 3)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(1, 0.25, 0));

        assertEquals(List.of(List.of(B), List.of(A)), candidates.stream().map(Placement.Candidate::servers).toList());
        assertEquals(List.of(0), candidates.get(0).gpuIndices());
    }

    @Test
    void shouldBreakTiesByServerOrderThenGpuIndex()
    {
        final List<Placement.ServerState> pool = List.of(
            server(C, gpu(0, 2048, 2048, 0), gpu(1, 2048, 2048, 0), gpu(2, 2048, 2048, 0)),
            server(A, gpu(0, 2048, 2048, 0), gpu(1, 2048, 2048, 0)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(2, 0.5, 0));

        assertEquals(List.of(List.of(C), List.of(A)), candidates.stream().map(Placement.Candidate::servers).toList());
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
        assertEquals(List.of(0, 6, 3, 4, 1, 7, 2, 5), first.stream()
            .map(candidate -> pool.stream().map(Placement.ServerState::endpoint).toList()
                .indexOf(candidate.servers().get(0)))
            .toList());
    }

    @Test
    void shouldComputeAFractionOfEachGpusOwnMemory()
    {
        // 0.5 of A's 8 GiB GPU is 4 GiB, more than its 3 GiB unreserved; 0.5 of B's 2 GiB fits.
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 8192, 3072, 1)), server(B, gpu(0, 2048, 2048, 0)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(1, 0.5, 0));

        assertEquals(List.of(List.of(B)), candidates.stream().map(Placement.Candidate::servers).toList());
    }

    @Test
    void shouldAskForWholeGpusWhenNoSliceIsGiven()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 2047, 1)), server(B, gpu(0, 2048, 2048, 0)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool, new Placement.Request(1, 0, 0));

        assertEquals(List.of(List.of(B)), candidates.stream().map(Placement.Candidate::servers).toList());
    }

    @Test
    void shouldSayHowManyFitWhenTooFewDo()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 0, 1)), server(B, gpu(0, 2048, 2048, 0)));

        final String why = Placement.whyNoFit(pool, new Placement.Request(2, 0.5, 0));

        assertTrue(why.startsWith("1 GPU of the pool fit the slice now, 2 wanted"), why);
        assertTrue(why.contains("the pool has 2 GPUs"), why);
        assertTrue(why.contains(A + " GPU 0 0/2048 MiB unreserved"), why);
        assertNull(Placement.whyNeverFits(pool, new Placement.Request(2, 0.5, 0)), "A's GPU fits once freed");
    }

    @Test
    void shouldKeepToTheGpusTheFiltersMatch()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 2048, 0)), server(B, gpu(0, 4096, 4096, 0), gpu(1, 4096, 4096, 0)));

        assertEquals(List.of(List.of(device(A, 0))), devicesOf(pool, request(1, "server.addr=" + A)));
        assertEquals(List.of(List.of(device(B, 1))), devicesOf(pool, request(1, "device.id=1")));
        assertEquals(List.of(List.of(device(B, 0), device(B, 1))), devicesOf(pool, request(2, "device.phy-memory=4096")));
        assertEquals(List.of(List.of(device(A, 0), device(B, 0))), devicesOf(pool, request(2, "device.id=0")));
        assertEquals(List.of(), devicesOf(pool, request(1, "server.addr=" + A, "device.id=1")), "all must match");
    }

    @Test
    void shouldKeepToThePinnedGpuIndicesOnEveryServer()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 2048, 0), gpu(1, 2048, 2048, 0)), server(B, gpu(0, 2048, 2048, 0), gpu(1, 2048, 2048, 0)));

        final List<Placement.Candidate> candidates = Placement.candidates(pool,
            new Placement.Request(2, 0.5, 0, List.of(), Set.of(1)));

        assertEquals(List.of(device(A, 1), device(B, 1)), candidates.get(0).devices());
    }

    @Test
    void shouldSayAtOnceWhenTheFiltersMatchNothing()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 2048, 0)), server(B, gpu(0, 2048, 2048, 0)));

        final String why = Placement.whyNeverFits(pool, request(1, "device.name=A100"));

        assertTrue(why.startsWith("0 GPUs of the pool match --filter device.name=A100, 1 wanted; the pool has 2 GPUs"), why);
        assertTrue(why.contains(A + " GPU 0 2048/2048 MiB unreserved (emulated, host a-host, CUDA 13.0, driver emulated)"),
            why);
    }

    @Test
    void shouldSayAtOnceWhenTheMatchingGpusAreTooSmallForTheSlice()
    {
        final List<Placement.ServerState> pool = List.of(
            server(A, gpu(0, 2048, 2048, 0)), server(B, gpu(0, 8192, 0, 1)));

        final String small = Placement.whyNeverFits(pool, new Placement.Request(1, 0, 4096,
            List.of(GpuFilter.parse("server.addr=" + A)), Set.of()));
        final String tooMany = Placement.whyNeverFits(pool, new Placement.Request(3, 0.5, 0));

        assertTrue(small.startsWith("0 GPUs matching --filter server.addr=" + A + " can ever hold a slice of 4096 MiB, " +
            "1 wanted"), small);
        assertTrue(tooMany.startsWith("2 GPUs of the pool can ever hold a slice of 0.5 of the memory, 3 wanted"), tooMany);
        assertNull(Placement.whyNeverFits(pool, new Placement.Request(1, 0, 4096)), "B's GPU holds it once freed");
    }

    private static Placement.ServerState server(final Endpoint endpoint, final GpuPoolInfo.Gpu... gpus)
    {
        final String hostname = (endpoint == A ? "a" : endpoint == B ? "b" : "other") + "-host";
        return new Placement.ServerState(
            endpoint, new GpuPoolInfo("emulated", 1, 0, List.of(gpus), hostname, "13.0", "emulated"));
    }

    private static Placement.Device device(final Endpoint server, final int gpuIndex)
    {
        return new Placement.Device(server, gpuIndex);
    }

    private static Placement.Request request(final int gpuCount, final String... filters)
    {
        return new Placement.Request(gpuCount, 0.5, 0, Arrays.stream(filters).map(GpuFilter::parse).toList(), Set.of());
    }

    private static List<List<Placement.Device>> devicesOf(
        final List<Placement.ServerState> pool, final Placement.Request request)
    {
        return Placement.candidates(pool, request).stream().map(Placement.Candidate::devices).toList();
    }

    /** A GPU with as many tenants' slices as given, sharing what is reserved. */
    private static GpuPoolInfo.Gpu gpu(final int index, final long totalMib, final long unreservedMib, final int tenants)
    {
        final List<GpuPoolInfo.Slice> slices = new ArrayList<>();
        for (int i = 0; i < tenants; i++)
        {
            slices.add(new GpuPoolInfo.Slice(i + 1, "", (totalMib - unreservedMib) * MIB / tenants, 0, 0, 1, 0, 0));
        }
        return new GpuPoolInfo.Gpu(index, "emulated", totalMib * MIB, unreservedMib * MIB, 0, slices);
    }
}
