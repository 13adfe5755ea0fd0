package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.wire.ServerSession;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicReferenceArray;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * The program's GPUs: one server session per device ordinal, on the server and GPU the settings map it to (device 0
 * may be on one server and device 1 on another), attached to the job's reservation there when it has one, opened at
 * cuInit.
 * <p>
 * Thread safety: thread safe; opening, reopening and closing are serialised.
 */
final class Sessions
{
    private final ClientSettings settings;
    private final PrintStream deviceOutput;
    private final AtomicReferenceArray<ServerSession> sessions;
    private volatile boolean initialised;

    Sessions(final ClientSettings settings, final PrintStream deviceOutput)
    {
        this.settings = settings;
        this.deviceOutput = deviceOutput;
        this.sessions = new AtomicReferenceArray<>(settings.gpuCount());
    }

    boolean isInitialised()
    {
        return initialised;
    }

    /**
     * @return how many GPUs the program has.
     */
    int count()
    {
        return sessions.length();
    }

    /**
     * Open one session per requested GPU: the slices are reserved from here on.
     *
     * @return null when every session opened, else why not (every session opened so far is closed again).
     */
    synchronized String openAll()
    {
        if (initialised)
        {
            return null;
        }
        for (int device = 0; device < sessions.length(); device++)
        {
            try
            {
                sessions.set(device, ServerSession.open(
                    settings.serverOf(device), settings.gpuIndex(device), settings.reservation(device), settings, deviceOutput));
            }
            catch (final RuntimeException ex)
            {
                for (int opened = 0; opened < device; opened++)
                {
                    sessions.getAndSet(opened, null).close();
                }
                return ex.getMessage();
            }
        }
        initialised = true;
        return null;
    }

    /**
     * Close a device's session (the server frees all it held) and open a fresh one on an equal slice.
     *
     * @return null when the fresh session opened, else why not.
     */
    synchronized String reopen(final int device)
    {
        final ServerSession old = sessions.get(device);
        old.close();
        try
        {
            sessions.set(device, ServerSession.open(
                settings.serverOf(device), settings.gpuIndex(device), settings.reservation(device), settings, deviceOutput));
            return null;
        }
        catch (final RuntimeException ex)
        {
            return ex.getMessage();
        }
    }

    synchronized void closeAll()
    {
        for (int i = 0; i < sessions.length(); i++)
        {
            final ServerSession session = sessions.getAndSet(i, null);
            if (session != null)
            {
                session.close();
            }
        }
        initialised = false;
    }

    /**
     * @return CUDA_SUCCESS for a device ordinal of this program, else why not.
     */
    int check(final int device)
    {
        if (!initialised)
        {
            return CUDA_ERROR_NOT_INITIALIZED;
        }
        return device >= 0 && device < sessions.length() ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
    }

    /**
     * @return the session of a valid device ordinal.
     */
    ServerSession of(final int device)
    {
        return sessions.get(device);
    }

    /**
     * @return the session of the GPU a handle was made on, or null for a value that is no handle here.
     */
    ServerSession ofHandle(final long handle)
    {
        final int device = Handles.deviceOf(handle);
        if (!initialised || device >= sessions.length() || !Handles.isHandle(handle))
        {
            return null;
        }
        return sessions.get(device);
    }
}
