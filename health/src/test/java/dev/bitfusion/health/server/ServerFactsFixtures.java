package dev.bitfusion.health.server;

import dev.bitfusion.health.ServerAddress;

import java.util.List;

/**
 * Facts of a healthy CUDA server and of an emulated one, for tests to vary.
 */
final class ServerFactsFixtures
{
    static final ServerAddress ADDRESS = ServerAddress.parse("172.16.31.206:56001");
    static final ClientInfo CLIENT = new ClientInfo("0.1.0", 3);
    /** The client's address, seen by the server as it is: no NAT. */
    static final String CLIENT_ADDRESS = "172.16.31.20";

    private ServerFactsFixtures()
    {
    }

    static GpuFacts a100(final int index)
    {
        return new GpuFacts(index, "NVIDIA A100-PCIE-40GB", 40L << 30, 45, EccState.ENABLED, 0, 0,
            ComputeMode.DEFAULT, 16, 16, true, true);
    }

    static ServerFacts cuda(final List<GpuFacts> gpus)
    {
        return new ServerFacts(ADDRESS, BackendKind.CUDA, "0.1.0", 3, "550.54.15", 12040, gpus, true,
            256L << 30, 20_000, 9.5e9, List.of(), CLIENT_ADDRESS, CLIENT_ADDRESS);
    }

    static ServerFacts emulated()
    {
        final GpuFacts gpu = new GpuFacts(0, "Emulated GPU", 4L << 30, GpuFacts.UNKNOWN, EccState.UNSUPPORTED,
            GpuFacts.UNKNOWN, GpuFacts.UNKNOWN, ComputeMode.DEFAULT, GpuFacts.UNKNOWN, GpuFacts.UNKNOWN, false, true);
        return new ServerFacts(ADDRESS, BackendKind.EMULATED, "0.1.0", 3, null, 12040, List.of(gpu), null,
            16L << 30, 30_000, 2.0e9, List.of(), CLIENT_ADDRESS, CLIENT_ADDRESS);
    }

    static ServerFacts withGpu(final GpuFacts gpu)
    {
        return cuda(List.of(gpu));
    }

    /**
     * @param clientAddress         the client's own address towards the server, or null.
     * @param observedClientAddress the client's address as the server saw it, or null.
     * @return a healthy CUDA server that saw the client at that address.
     */
    static ServerFacts seeingClient(final String clientAddress, final String observedClientAddress)
    {
        final ServerFacts facts = cuda(List.of(a100(0)));
        return new ServerFacts(facts.address(), facts.backend(), facts.bitfusionVersion(), facts.protocolVersion(),
            facts.driverVersion(), facts.cudaDriverVersion(), facts.gpus(), facts.p2pSupported(),
            facts.hostMemoryBytes(), facts.latencyNs(), facts.bandwidthBytesPerSec(), facts.hostChecks(),
            clientAddress, observedClientAddress);
    }
}
