package dev.bitfusion.agent.pool;

import java.util.List;

/**
 * A server's GPUs and the slices open on them, as {@code bitfusion list_gpus} and {@code bitfusion smi} show them.
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
     * A reservation: its holder's session and what all the sessions attached to it do. The last four are -1 from a
     * server that does not say (before protocol 5).
     *
     * @param sessionId      the session holding it, which names the reservation.
     * @param clientId       who holds it, or "(another tenant)" when the asker may not see it.
     * @param sliceBytes     its size.
     * @param allocatedBytes what its sessions hold now.
     * @param ageMs          how long it has been held.
     * @param sessions       sessions attached, the holder's included.
     * @param calls          calls executed by all its sessions so far, those that ended included.
     * @param bytes          bytes of requests and replies of all its sessions so far, those that ended included.
     */
    public record Slice(
        long sessionId, String clientId, long sliceBytes, long allocatedBytes, long ageMs, int sessions, long calls,
        long bytes)
    {
    }
}
