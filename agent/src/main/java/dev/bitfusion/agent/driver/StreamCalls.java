package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.ServerSession;
import dev.bitfusion.transport.protocol.SyncKind;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Streams: creation with client-chosen handles, synchronisation and queries, waits on events, host
 * functions, and the questions runtimes ask before they launch anything (what a stream was created with,
 * whether it is being captured). Graph capture is not supported, so no stream is ever capturing; streams
 * have one priority level.
 * <p>
 * Host functions run in the program, after the stream's earlier work and before its later work: the stream
 * is waited for, the function called, and only then does the call return, so later work cannot be queued
 * before it. The caller waits where CUDA would return at once, and the function runs on the caller's
 * thread rather than a driver thread.
 * <p>
 * Thread safety: thread safe.
 */
public final class StreamCalls
{
    private static final int CU_STREAM_CAPTURE_STATUS_NONE = 0;

    private final Sessions sessions;
    private final Handles handles;
    private final ContextState contexts;
    private final StreamTable streams;
    private final MappedMemory mapped;
    private final Diagnostics diagnostics;
    private volatile HostCallbacks hostCallbacks;

    StreamCalls(
        final Sessions sessions, final Handles handles, final ContextState contexts, final StreamTable streams,
        final MappedMemory mapped, final Diagnostics diagnostics)
    {
        this.sessions = sessions;
        this.handles = handles;
        this.contexts = contexts;
        this.streams = streams;
        this.mapped = mapped;
        this.diagnostics = diagnostics;
    }

    void hostCallbacks(final HostCallbacks hostCallbacks)
    {
        this.hostCallbacks = hostCallbacks;
    }

    public int cuStreamCreate(final long phStream, final int flags)
    {
        return cuStreamCreateWithPriority(phStream, flags, 0);
    }

    public int cuStreamCreateWithPriority(final long phStream, final int flags, final int priority)
    {
        if (phStream == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int device = contexts.currentDevice();
        if (device < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final long handle = handles.newHandle(device);
        final long context = contexts.current();
        final int status = sessions.of(device).proxy().streamCreate(
            handle, ContextState.wireContext(context), flags, priority);
        if (status == CUDA_SUCCESS)
        {
            streams.add(handle, new StreamTable.StreamInfo(context, flags, priority));
            NativeMemory.putLong(phStream, handle);
        }
        return status;
    }

    public int cuStreamDestroy(final long hStream)
    {
        final ServerSession session = StreamTable.isDefaultStream(hStream) ? null : sessions.ofHandle(hStream);
        if (session == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        streams.remove(hStream);
        return session.proxy().streamDestroy(hStream);
    }

    /**
     * Waits for the stream's work; device writes to mapped host memory are then visible.
     */
    public int cuStreamSynchronize(final long hStream)
    {
        return mapped.pullDeviceWritesAfter(synchronize(hStream, SyncKind.STREAM_SYNCHRONIZE));
    }

    /**
     * CUDA_SUCCESS when the stream's work is done, CUDA_ERROR_NOT_READY otherwise.
     */
    public int cuStreamQuery(final long hStream)
    {
        return synchronize(hStream, SyncKind.STREAM_QUERY);
    }

    /**
     * An event of another GPU (which may be on another server) is waited for here, on the host, before the
     * stream gets any later work: the order CUDA promises, at the cost of the caller waiting.
     */
    public int cuStreamWaitEvent(final long hStream, final long hEvent, final int flags)
    {
        final ServerSession session = streams.sessionOf(hStream);
        if (session == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final ServerSession eventSession = sessions.ofHandle(hEvent);
        if (eventSession != null && eventSession != session)
        {
            return eventSession.synchronize(SyncKind.EVENT_SYNCHRONIZE, hEvent);
        }
        return session.proxy().streamWaitEvent(StreamTable.wireStream(hStream), hEvent);
    }

    public int cuStreamGetCtx(final long hStream, final long pctx)
    {
        final long context = contextOf(hStream);
        if (pctx == 0 || context == 0)
        {
            return pctx == 0 ? CUDA_ERROR_INVALID_VALUE : failure(hStream);
        }
        NativeMemory.putLong(pctx, context);
        return CUDA_SUCCESS;
    }

    public int cuStreamGetDevice(final long hStream, final long device)
    {
        final long context = contextOf(hStream);
        if (device == 0 || context == 0)
        {
            return device == 0 ? CUDA_ERROR_INVALID_VALUE : failure(hStream);
        }
        NativeMemory.putInt(device, streams.deviceOf(hStream));
        return CUDA_SUCCESS;
    }

    public int cuStreamGetFlags(final long hStream, final long flags)
    {
        final long context = contextOf(hStream);
        if (flags == 0 || context == 0)
        {
            return flags == 0 ? CUDA_ERROR_INVALID_VALUE : failure(hStream);
        }
        final StreamTable.StreamInfo info = streams.info(hStream);
        NativeMemory.putInt(flags, info == null ? 0 : info.flags());
        return CUDA_SUCCESS;
    }

    /**
     * A stream's unique id: its handle; a default stream's is its kind on its GPU.
     */
    public int cuStreamGetId(final long hStream, final long streamId)
    {
        final long context = contextOf(hStream);
        if (streamId == 0 || context == 0)
        {
            return streamId == 0 ? CUDA_ERROR_INVALID_VALUE : failure(hStream);
        }
        final long id = !StreamTable.isDefaultStream(hStream) ? hStream :
            ((long)streams.deviceOf(hStream) << Handles.DEVICE_SHIFT) |
            (hStream == StreamTable.CU_STREAM_PER_THREAD ? StreamTable.CU_STREAM_PER_THREAD : StreamTable.CU_STREAM_LEGACY);
        NativeMemory.putLong(streamId, id);
        return CUDA_SUCCESS;
    }

    public int cuStreamGetPriority(final long hStream, final long priority)
    {
        if (priority == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        NativeMemory.putInt(priority, 0);
        return CUDA_SUCCESS;
    }

    public int cuStreamIsCapturing(final long hStream, final long captureStatus)
    {
        if (captureStatus == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        NativeMemory.putInt(captureStatus, CU_STREAM_CAPTURE_STATUS_NONE);
        return CUDA_SUCCESS;
    }

    /**
     * cuStreamGetCaptureInfo (v1, v2 and v3 share it): never capturing. The graph, dependencies and their
     * count are only defined while capturing; they are cleared for safety.
     */
    public int cuStreamGetCaptureInfo(final long hStream, final long captureStatusOut, final long idOut)
    {
        if (captureStatusOut == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        NativeMemory.putInt(captureStatusOut, CU_STREAM_CAPTURE_STATUS_NONE);
        NativeMemory.putLongIfWanted(idOut, 0);
        return CUDA_SUCCESS;
    }

    public int cuStreamGetCaptureInfo(
        final long hStream, final long captureStatusOut, final long idOut, final long graphOut,
        final long dependenciesOut, final long numDependenciesOut)
    {
        final int status = cuStreamGetCaptureInfo(hStream, captureStatusOut, idOut);
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putLongIfWanted(graphOut, 0);
            NativeMemory.putLongIfWanted(dependenciesOut, 0);
            NativeMemory.putLongIfWanted(numDependenciesOut, 0);
        }
        return status;
    }

    public int cuStreamGetCaptureInfo(
        final long hStream, final long captureStatusOut, final long idOut, final long graphOut,
        final long dependenciesOut, final long edgeDataOut, final long numDependenciesOut)
    {
        final int status = cuStreamGetCaptureInfo(
            hStream, captureStatusOut, idOut, graphOut, dependenciesOut, numDependenciesOut);
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putLongIfWanted(edgeDataOut, 0);
        }
        return status;
    }

    /**
     * Unlike a stream callback, a host function is skipped after an error.
     */
    public int cuLaunchHostFunc(final long hStream, final long fn, final long userData)
    {
        final HostCallbacks callbacks = hostCallbacks;
        if (fn == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (callbacks == null)
        {
            return diagnostics.unsupported("cuLaunchHostFunc without the native bridge");
        }
        final int status = cuStreamSynchronize(hStream);
        if (status == CUDA_SUCCESS)
        {
            callbacks.callHostFunction(fn, userData);
        }
        return status;
    }

    /**
     * The callback always runs, with the stream's status.
     */
    public int cuStreamAddCallback(final long hStream, final long callback, final long userData, final int flags)
    {
        final HostCallbacks callbacks = hostCallbacks;
        if (callback == 0 || flags != 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (callbacks == null)
        {
            return diagnostics.unsupported("cuStreamAddCallback without the native bridge");
        }
        callbacks.callStreamCallback(callback, hStream, cuStreamSynchronize(hStream), userData);
        return CUDA_SUCCESS;
    }

    private int synchronize(final long stream, final SyncKind kind)
    {
        final ServerSession session = streams.sessionOf(stream);
        return session == null ? CUDA_ERROR_INVALID_HANDLE : session.synchronize(kind, StreamTable.wireStream(stream));
    }

    /**
     * @return the context a stream belongs to (the current one for a default stream), or 0 when unknown.
     */
    private long contextOf(final long stream)
    {
        if (StreamTable.isDefaultStream(stream))
        {
            return contexts.currentDevice() < 0 ? 0 : contexts.current();
        }
        final StreamTable.StreamInfo info = streams.info(stream);
        return info == null ? 0 : info.context();
    }

    private int failure(final long stream)
    {
        return StreamTable.isDefaultStream(stream) ? CUDA_ERROR_INVALID_CONTEXT : CUDA_ERROR_INVALID_HANDLE;
    }
}
