package dev.bitfusion.agent.pool;

import java.util.List;

/**
 * A server's GPUs and the slices open on them, as {@code bitfusion list_gpus} shows them.
 *
 * @param backend         "emulated" or "cuda".
 * @param protocolVersion the server's protocol version.
 * @param openSessions    sessions open on the server.
 * @param gpus            its GPUs.
 * @param hostname        the server's host name.
 * @param cudaVersion     the CUDA version it serves, "12.4"; empty when it cannot tell.
 * @param driverVersion   its GPU driver's version, "560.35.03" or "emulated"; empty when it cannot tell.
 */
public record GpuPoolInfo(
    String backend,
    int protocolVersion,
    int openSessions,
    List<Gpu> gpus,
    String hostname,
    String cudaVersion,
    String driverVersion)
{
    /**
     * @param index           ordinal on the server.
     * @param name            device name.
     * @param totalBytes      whole memory.
     * @param unreservedBytes memory not promised to any slice.
     * @param allocatedBytes  memory held in allocations by all tenants.
     * @param slices          the slices open on it.
     */
    public record Gpu(int index, String name, long totalBytes, long unreservedBytes, long allocatedBytes, List<Slice> slices)
    {
    }

    /**
     * @param sessionId      the session holding it.
     * @param clientId       who opened it.
     * @param sliceBytes     its size.
     * @param allocatedBytes what it holds now.
     */
    public record Slice(long sessionId, String clientId, long sliceBytes, long allocatedBytes)
    {
    }
}
