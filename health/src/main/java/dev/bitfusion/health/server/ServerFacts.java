package dev.bitfusion.health.server;

import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.ServerAddress;

import java.util.List;
import java.util.Objects;

/**
 * Everything a server and the client's measurements tell the health checks about one server. The
 * server fills the GPU and version fields from its backend; the client adds what it measured.
 *
 * @param address              the server as configured.
 * @param backend              what executes CUDA calls there.
 * @param bitfusionVersion     the server's bitfusion version.
 * @param protocolVersion      the server's wire protocol version.
 * @param driverVersion        the NVIDIA driver version, e.g. "550.54.15", or null without a driver.
 * @param cudaDriverVersion    cuDriverGetVersion, e.g. 12040, or {@link GpuFacts#UNKNOWN}; for the
 *                             emulated backend, the driver API version it implements.
 * @param gpus                 the GPUs the server offers.
 * @param p2pSupported         whether every pair of its GPUs can access each other's memory, or null
 *                             when not tested.
 * @param hostMemoryBytes      the server's host memory, or {@link GpuFacts#UNKNOWN}.
 * @param latencyNs            measured round trip of an empty request, or {@link GpuFacts#UNKNOWN}.
 * @param bandwidthBytesPerSec measured host-to-device copy bandwidth, or a negative value when not measured.
 * @param hostChecks           the server's own host checks, from
 *                             {@link dev.bitfusion.health.LocalHealth#hostChecks}, appended to its section.
 * @param clientAddress        this client's own address on its route to the server, or null when unknown.
 * @param observedClientAddress the address the server saw the client's query come from (after any NAT), or null
 *                             when it did not say (over IPC, or a server that does not tell).
 */
public record ServerFacts(
    ServerAddress address,
    BackendKind backend,
    String bitfusionVersion,
    int protocolVersion,
    String driverVersion,
    int cudaDriverVersion,
    List<GpuFacts> gpus,
    Boolean p2pSupported,
    long hostMemoryBytes,
    long latencyNs,
    double bandwidthBytesPerSec,
    List<CheckResult> hostChecks,
    String clientAddress,
    String observedClientAddress)
{
    /**
     * Validates the fields and copies the lists.
     *
     * @param address              the server.
     * @param backend              the backend.
     * @param bitfusionVersion     the server's bitfusion version.
     * @param protocolVersion      the server's wire protocol version.
     * @param driverVersion        the NVIDIA driver version or null.
     * @param cudaDriverVersion    the CUDA driver API version.
     * @param gpus                 the GPUs.
     * @param p2pSupported         P2P support or null.
     * @param hostMemoryBytes      the server's host memory.
     * @param latencyNs            measured round trip.
     * @param bandwidthBytesPerSec measured bandwidth.
     * @param hostChecks           the server's own host checks.
     * @param clientAddress        this client's own address towards the server, or null.
     * @param observedClientAddress the client's address as the server sees it, or null.
     */
    public ServerFacts
    {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(bitfusionVersion, "bitfusionVersion");
        gpus = List.copyOf(gpus);
        hostChecks = List.copyOf(hostChecks);
    }

    /**
     * @return the sum of the GPUs' memory.
     */
    public long gpuMemoryTotalBytes()
    {
        long total = 0;
        for (final GpuFacts gpu : gpus)
        {
            total += gpu.memoryTotalBytes();
        }
        return total;
    }

    /**
     * @return true for the emulated backend.
     */
    public boolean emulated()
    {
        return BackendKind.EMULATED == backend;
    }
}
