package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.CallSlot;
import dev.bitfusion.agent.wire.ServerSession;
import dev.bitfusion.transport.protocol.SyncKind;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Events: created with client-chosen handles on the current context's GPU, recorded and waited for in
 * their session's order, timed by the GPU.
 * <p>
 * Thread safety: thread safe.
 */
public final class EventCalls
{
    private final Sessions sessions;
    private final Handles handles;
    private final ContextState contexts;
    private final MappedMemory mapped;

    EventCalls(
        final Sessions sessions, final Handles handles, final ContextState contexts, final MappedMemory mapped)
    {
        this.sessions = sessions;
        this.handles = handles;
        this.contexts = contexts;
        this.mapped = mapped;
    }

    public int cuEventCreate(final long phEvent, final int flags)
    {
        if (phEvent == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int device = contexts.currentDevice();
        if (device < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final long handle = handles.newHandle(device);
        final int status = sessions.of(device).proxy().eventCreate(
            handle, ContextState.wireContext(contexts.current()), flags);
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putLong(phEvent, handle);
        }
        return status;
    }

    public int cuEventRecord(final long hEvent, final long hStream)
    {
        final ServerSession session = sessions.ofHandle(hEvent);
        if (session == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        return session.proxy().eventRecord(hEvent, StreamTable.wireStream(hStream));
    }

    /**
     * The flags only ask for an external event record, which a remote GPU records the same way.
     */
    public int cuEventRecordWithFlags(final long hEvent, final long hStream, final int flags)
    {
        return cuEventRecord(hEvent, hStream);
    }

    public int cuEventQuery(final long hEvent)
    {
        final ServerSession session = sessions.ofHandle(hEvent);
        return session == null ? CUDA_ERROR_INVALID_HANDLE : session.synchronize(SyncKind.EVENT_QUERY, hEvent);
    }

    /**
     * Waits for the event; device writes to mapped host memory are then visible.
     */
    public int cuEventSynchronize(final long hEvent)
    {
        final ServerSession session = sessions.ofHandle(hEvent);
        return session == null ? CUDA_ERROR_INVALID_HANDLE :
            mapped.pullDeviceWritesAfter(session.synchronize(SyncKind.EVENT_SYNCHRONIZE, hEvent));
    }

    public int cuEventElapsedTime(final long pMilliseconds, final long hStart, final long hEnd)
    {
        if (pMilliseconds == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final ServerSession session = sessions.ofHandle(hStart);
        if (session == null || sessions.ofHandle(hEnd) != session)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final CallSlot slot = session.slot();
        final int status = session.await(slot, session.proxy().eventElapsedTime(slot, hStart, hEnd));
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putFloat(pMilliseconds, Float.intBitsToFloat((int)slot.value1()));
        }
        return status;
    }

    public int cuEventDestroy(final long hEvent)
    {
        final ServerSession session = sessions.ofHandle(hEvent);
        return session == null ? CUDA_ERROR_INVALID_HANDLE : session.proxy().eventDestroy(hEvent);
    }
}
