package dev.bitfusion.cli;

import dev.bitfusion.agent.Reservation;
import dev.bitfusion.transport.Endpoint;

import java.util.List;

/**
 * The GPUs held for a job, as its processes are told of them ({@link ProgramLauncher}): for each device ordinal its
 * server, that server's GPU and the reservation to attach to; the slice; the tag the servers list the job's sessions
 * by; and whether its sessions encrypt. {@code bitfusion run} has them from its own holder, {@code bitfusion client}
 * from the reservation file of {@code request_gpus} ({@link ReservationFile}).
 *
 * @param servers        the server of each device ordinal.
 * @param gpuIndices     that server's GPU for each device ordinal.
 * @param reservations   the reservation of each device ordinal.
 * @param memoryFraction the slice as a fraction of each GPU's memory, or 0 when given in MiB.
 * @param memoryMb       the slice in MiB, or 0 when given as a fraction.
 * @param tag            added to the client id of the job's sessions.
 * @param encrypt        whether the job's sessions encrypt their payloads.
 */
record HeldGpus(
    List<Endpoint> servers,
    List<Integer> gpuIndices,
    List<Reservation> reservations,
    double memoryFraction,
    long memoryMb,
    String tag,
    boolean encrypt)
{
    HeldGpus
    {
        servers = List.copyOf(servers);
        gpuIndices = List.copyOf(gpuIndices);
        reservations = List.copyOf(reservations);
        if (servers.isEmpty() || servers.size() != gpuIndices.size() || servers.size() != reservations.size())
        {
            throw new IllegalArgumentException("each device ordinal needs a server, a GPU and a reservation: got " +
                servers.size() + " servers, " + gpuIndices.size() + " GPUs and " + reservations.size() + " reservations");
        }
        if ((memoryFraction > 0) == (memoryMb > 0) || memoryFraction > 1)
        {
            throw new IllegalArgumentException("the slice is a fraction in (0, 1] or a number of MiB, got fraction " +
                memoryFraction + " and " + memoryMb + " MiB");
        }
    }

    /**
     * @return the slice as people read it, e.g. {@code 0.5 of the memory} or {@code 256 MiB}.
     */
    String describeSlice()
    {
        return memoryMb > 0 ? memoryMb + " MiB" : memoryFraction + " of the memory";
    }
}
