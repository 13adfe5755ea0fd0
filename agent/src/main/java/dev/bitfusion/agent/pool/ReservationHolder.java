package dev.bitfusion.agent.pool;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.Reservation;
import dev.bitfusion.agent.wire.ServerSession;
import dev.bitfusion.transport.Endpoint;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Holds a job's GPUs for its whole life: one hold-only session per device ordinal, each taking its slice as a
 * reservation before the job's first process starts. The job's processes attach their sessions to the reservations
 * ({@link ClientSettings#RESERVATIONS_ENV_NAME}) and share the slices; nothing else can take them meanwhile. A
 * hold-only session has no device context on the server, so holding costs the GPU nothing beyond the slice.
 * <p>
 * The reservations last as long as this holder's sessions: {@link #close()} releases them, and when the holder's
 * process dies the servers notice as they do for any client (within 3 s) and free them. Either way the servers end
 * the sessions still attached, so a released slice is never still in use.
 * <p>
 * Thread safety: thread safe; {@link #close()} may come from a shutdown hook while the main thread waits.
 */
public final class ReservationHolder implements AutoCloseable
{
    private final List<ServerSession> sessions;
    private final List<Reservation> reservations;
    private final List<Endpoint> servers;
    private final int[] gpuIndices;

    private ReservationHolder(final List<ServerSession> sessions, final List<Endpoint> servers, final int[] gpuIndices)
    {
        this.sessions = sessions;
        this.servers = List.copyOf(servers);
        this.gpuIndices = gpuIndices.clone();
        this.reservations = sessions.stream().map(ServerSession::reservation).toList();
    }

    /**
     * Reserve one slice per device ordinal, all or none.
     *
     * @param servers    the server of each device ordinal.
     * @param gpuIndices the GPU of that server for each device ordinal.
     * @param settings   the slice, the token, encryption and the client id the servers list the holder by.
     * @return the holder, every slice held.
     * @throws dev.bitfusion.agent.wire.SessionRefusedException when a server refuses or does not answer, with its
     * reason; the slices taken before it are released.
     */
    public static ReservationHolder hold(final List<Endpoint> servers, final int[] gpuIndices, final ClientSettings settings)
    {
        if (servers.size() != gpuIndices.length)
        {
            throw new IllegalArgumentException(servers.size() + " servers for " + gpuIndices.length + " GPUs");
        }
        settings.holdOnly(true).reservations(null);
        final PrintStream noDeviceOutput = new PrintStream(OutputStream.nullOutputStream());
        final List<ServerSession> sessions = new ArrayList<>();
        try
        {
            for (int device = 0; device < gpuIndices.length; device++)
            {
                final ServerSession session =
                    ServerSession.open(servers.get(device), gpuIndices[device], null, settings, noDeviceOutput);
                sessions.add(session);
                if (session.reservation() == null)
                {
                    throw new IllegalStateException("server " + servers.get(device) + " opened a session but gave " +
                        "no reservation: it runs another bitfusion version");
                }
            }
        }
        catch (final RuntimeException ex)
        {
            sessions.forEach(ServerSession::close);
            throw ex;
        }
        return new ReservationHolder(sessions, servers, gpuIndices);
    }

    /**
     * @return the reservation of each device ordinal, for the job's processes.
     */
    public List<Reservation> reservations()
    {
        return reservations;
    }

    /**
     * @return the server of each device ordinal.
     */
    public List<Endpoint> servers()
    {
        return servers;
    }

    /**
     * @return the GPU of its server for each device ordinal.
     */
    public int[] gpuIndices()
    {
        return gpuIndices.clone();
    }

    /**
     * @return null while every reservation is held, else why one is not (its server ended the session or was lost).
     */
    public String lostReason()
    {
        for (int device = 0; device < sessions.size(); device++)
        {
            final ServerSession session = sessions.get(device);
            if (session.isLost())
            {
                return "the reservation of device " + device + " on " + servers.get(device) + " was lost: " +
                    session.lastErrorMessage();
            }
        }
        return null;
    }

    /**
     * Release every reservation: the servers end the sessions still attached and free the slices.
     */
    public synchronized void close()
    {
        sessions.forEach(ServerSession::close);
    }
}
