package dev.bitfusion.server.backend.cuda;

import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.transport.protocol.SyncKind;
import jcuda.driver.CUevent;
import jcuda.driver.CUstream;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongArrayList;
import org.agrona.collections.LongHashSet;

import static dev.bitfusion.cuda.CuResult.*;
import static jcuda.driver.JCudaDriver.*;

/**
 * A tenant's client contexts, streams and events on a real GPU, by the handles its client chose: client contexts
 * are names only (they share the tenant's one CUDA context), streams and events are the driver's.
 * <p>
 * Thread safety: used by the session's executor only.
 */
final class CudaStreams
{
    private static final long NO_CONTEXT = -1;

    private final CudaContext context;
    private final LongHashSet contexts = new LongHashSet();
    private final Long2LongHashMap streamContexts = new Long2LongHashMap(NO_CONTEXT);
    private final Long2ObjectHashMap<CUstream> streams = new Long2ObjectHashMap<>();
    private final Long2ObjectHashMap<CUevent> events = new Long2ObjectHashMap<>();
    private final CUstream defaultStream = new CUstream();
    private final float[] floatOut = new float[1];

    CudaStreams(final CudaContext context)
    {
        this.context = context;
        contexts.add(0L);
    }

    /**
     * @return the stream a client handle names (0, the context's default stream), or null for an unknown one.
     */
    CUstream stream(final long streamHandle)
    {
        return streamHandle == 0 ? defaultStream : streams.get(streamHandle);
    }

    /**
     * @return whether a client context of that handle exists.
     */
    boolean hasContext(final long contextHandle)
    {
        return contexts.contains(contextHandle);
    }

    int contextCreate(final long contextHandle, final int flags)
    {
        return contexts.add(contextHandle) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
    }

    int contextDestroy(final long contextHandle)
    {
        if (contextHandle == 0 || !contexts.remove(contextHandle))
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final LongArrayList owned = new LongArrayList();
        streamContexts.forEach((stream, owner) ->
        {
            if (owner == contextHandle)
            {
                owned.addLong(stream);
            }
        });
        for (int i = 0; i < owned.size(); i++)
        {
            streamDestroy(owned.getLong(i));
        }
        return CUDA_SUCCESS;
    }

    int streamCreate(final long streamHandle, final long contextHandle, final int flags, final int priority)
    {
        if (!contexts.contains(contextHandle))
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        if (streamHandle == 0 || streams.containsKey(streamHandle))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final CUstream stream = new CUstream();
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = priority == 0 ? cuStreamCreate(stream, flags) : cuStreamCreateWithPriority(stream, flags, priority);
        }
        if (status == CUDA_SUCCESS)
        {
            streams.put(streamHandle, stream);
            streamContexts.put(streamHandle, contextHandle);
        }
        return status;
    }

    int streamDestroy(final long streamHandle)
    {
        final CUstream stream = streamHandle == 0 ? null : streams.remove(streamHandle);
        if (stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        streamContexts.remove(streamHandle);
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuStreamDestroy(stream);
        }
        return status;
    }

    int streamWaitEvent(final long streamHandle, final long eventHandle)
    {
        final CUstream stream = stream(streamHandle);
        final CUevent event = events.get(eventHandle);
        if (stream == null || event == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuStreamWaitEvent(stream, event, 0);
        }
        return status;
    }

    int synchronize(final SyncKind kind, final long handle)
    {
        final CUstream stream;
        final CUevent event;
        switch (kind)
        {
            case CONTEXT_SYNCHRONIZE:
                if (!contexts.contains(handle))
                {
                    return CUDA_ERROR_INVALID_CONTEXT;
                }
                stream = null;
                event = null;
                break;
            case STREAM_SYNCHRONIZE:
            case STREAM_QUERY:
                stream = stream(handle);
                if (stream == null)
                {
                    return CUDA_ERROR_INVALID_HANDLE;
                }
                event = null;
                break;
            case EVENT_SYNCHRONIZE:
            case EVENT_QUERY:
                event = events.get(handle);
                if (event == null)
                {
                    return CUDA_ERROR_INVALID_HANDLE;
                }
                stream = null;
                break;
            default:
                return CUDA_ERROR_INVALID_VALUE;
        }
        int status = context.enter();
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        status = switch (kind)
        {
            case CONTEXT_SYNCHRONIZE -> cuCtxSynchronize();
            case STREAM_SYNCHRONIZE -> cuStreamSynchronize(stream);
            case STREAM_QUERY -> cuStreamQuery(stream);
            case EVENT_SYNCHRONIZE -> cuEventSynchronize(event);
            default -> cuEventQuery(event);
        };
        return status;
    }

    int eventCreate(final long eventHandle, final long contextHandle, final int flags)
    {
        if (!contexts.contains(contextHandle))
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        if (events.containsKey(eventHandle))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final CUevent event = new CUevent();
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuEventCreate(event, flags);
        }
        if (status == CUDA_SUCCESS)
        {
            events.put(eventHandle, event);
        }
        return status;
    }

    int eventRecord(final long eventHandle, final long streamHandle)
    {
        final CUevent event = events.get(eventHandle);
        final CUstream stream = stream(streamHandle);
        if (event == null || stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuEventRecord(event, stream);
        }
        return status;
    }

    int eventDestroy(final long eventHandle)
    {
        final CUevent event = events.remove(eventHandle);
        if (event == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuEventDestroy(event);
        }
        return status;
    }

    int eventElapsedTime(final long startEventHandle, final long endEventHandle, final CallResult result)
    {
        final CUevent start = events.get(startEventHandle);
        final CUevent end = events.get(endEventHandle);
        if (start == null || end == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuEventElapsedTime(floatOut, start, end);
        }
        if (status == CUDA_SUCCESS)
        {
            result.value1 = Float.floatToRawIntBits(floatOut[0]);
        }
        return status;
    }

    /**
     * Forget every stream and event; with the context current, destroy them in the driver first.
     */
    void close(final boolean contextCurrent)
    {
        if (contextCurrent)
        {
            streams.values().forEach(stream -> cuStreamDestroy(stream));
            events.values().forEach(event -> cuEventDestroy(event));
        }
        streams.clear();
        streamContexts.clear();
        events.clear();
    }
}
