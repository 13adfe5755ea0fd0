package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.CallSlot;
import dev.bitfusion.agent.wire.ServerSession;
import dev.bitfusion.transport.protocol.SyncKind;

import java.util.concurrent.atomic.AtomicInteger;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Contexts: primary contexts (one per GPU, living as long as its session), contexts made with cuCtxCreate,
 * each thread's context stack, context synchronisation and limits. A context's id is its handle, never
 * reused while the process runs.
 * <p>
 * Thread safety: thread safe.
 */
public final class ContextCalls
{
    private static final int CONTEXT_API_VERSION = 3020;

    private final Sessions sessions;
    private final Handles handles;
    private final ContextState state;
    private final MappedMemory mapped;
    private final ModuleCalls modules;
    private final DeviceAllocations allocations;
    private final Diagnostics diagnostics;
    private final AtomicInteger[] primaryContextRefs;

    ContextCalls(
        final Sessions sessions, final Handles handles, final ContextState state, final MappedMemory mapped,
        final ModuleCalls modules, final DeviceAllocations allocations, final Diagnostics diagnostics)
    {
        this.sessions = sessions;
        this.handles = handles;
        this.state = state;
        this.mapped = mapped;
        this.modules = modules;
        this.allocations = allocations;
        this.diagnostics = diagnostics;
        primaryContextRefs = new AtomicInteger[sessions.count()];
        for (int i = 0; i < primaryContextRefs.length; i++)
        {
            primaryContextRefs[i] = new AtomicInteger();
        }
    }

    public int cuDevicePrimaryCtxRetain(final long pctx, final int dev)
    {
        if (pctx == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int status = sessions.check(dev);
        if (status == CUDA_SUCCESS)
        {
            primaryContextRefs[dev].incrementAndGet();
            NativeMemory.putLong(pctx, ContextState.primaryContext(dev));
        }
        return status;
    }

    public int cuDevicePrimaryCtxRelease(final int dev)
    {
        final int status = sessions.check(dev);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        return primaryContextRefs[dev].getAndUpdate(refs -> Math.max(0, refs - 1)) > 0 ?
            CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
    }

    /**
     * Destroy the primary context's state: the session is closed (the server frees all its memory, modules,
     * streams and events) and a fresh one opened on an equal slice; the program's modules and libraries are
     * loaded again under the handles it holds, as CUDA 12+ libraries outlive a reset.
     */
    public int cuDevicePrimaryCtxReset(final int dev)
    {
        final int status = sessions.check(dev);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        synchronized (sessions)
        {
            final String refused = sessions.reopen(dev);
            if (refused != null)
            {
                diagnostics.failed(refused);
                return CUDA_ERROR_DEVICE_UNAVAILABLE;
            }
            allocations.clear(dev);
            return modules.reloadAll(dev);
        }
    }

    /**
     * The primary context exists on the server for as long as the session does.
     */
    public int cuDevicePrimaryCtxGetState(final int dev, final long flags, final long active)
    {
        final int status = sessions.check(dev);
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putIntIfWanted(flags, 0);
            NativeMemory.putIntIfWanted(active, 1);
        }
        return status;
    }

    /**
     * Scheduling flags (spin, yield, blocking sync) only change how a local host thread waits.
     */
    public int cuDevicePrimaryCtxSetFlags(final int dev, final int flags)
    {
        return sessions.check(dev);
    }

    public int cuCtxCreate(final long pctx, final int flags, final int dev)
    {
        if (pctx == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int status = sessions.check(dev);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        final long handle = handles.newHandle(dev);
        final int sent = sessions.of(dev).proxy().contextCreate(handle, flags);
        if (sent == CUDA_SUCCESS)
        {
            state.created(handle, dev);
            state.stack().push(handle);
            NativeMemory.putLong(pctx, handle);
        }
        return sent;
    }

    /**
     * cuCtxCreate_v4: execution affinity and CIG parameters are not supported.
     */
    public int cuCtxCreateWithParams(final long pctx, final long ctxCreateParams, final int flags, final int dev)
    {
        if (ctxCreateParams != 0)
        {
            return diagnostics.unsupported("cuCtxCreate_v4 with CUctxCreateParams");
        }
        return cuCtxCreate(pctx, flags, dev);
    }

    public int cuCtxDestroy(final long ctx)
    {
        final Integer device = state.destroyed(ctx);
        if (device == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        state.stack().forget(ctx);
        return sessions.of(device).proxy().contextDestroy(ctx);
    }

    public int cuCtxSetCurrent(final long ctx)
    {
        if (ctx != 0 && state.deviceOf(ctx) < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        state.stack().setCurrent(ctx);
        return CUDA_SUCCESS;
    }

    public int cuCtxGetCurrent(final long pctx)
    {
        if (pctx == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        NativeMemory.putLong(pctx, state.current());
        return CUDA_SUCCESS;
    }

    public int cuCtxPushCurrent(final long ctx)
    {
        if (state.deviceOf(ctx) < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        state.stack().push(ctx);
        return CUDA_SUCCESS;
    }

    public int cuCtxPopCurrent(final long pctx)
    {
        final long popped = state.stack().pop();
        if (popped == 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        NativeMemory.putLongIfWanted(pctx, popped);
        return CUDA_SUCCESS;
    }

    public int cuCtxGetDevice(final long device)
    {
        if (device == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int current = state.currentDevice();
        if (current < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        NativeMemory.putInt(device, current);
        return CUDA_SUCCESS;
    }

    /**
     * cuCtxGetDevice_v2: the device of any context, the current one when {@code ctx} is 0.
     */
    public int cuCtxGetDeviceOf(final long device, final long ctx)
    {
        if (ctx == 0)
        {
            return cuCtxGetDevice(device);
        }
        if (device == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int of = state.deviceOf(ctx);
        if (of < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        NativeMemory.putInt(device, of);
        return CUDA_SUCCESS;
    }

    /**
     * Waits for all work of the current context; device writes to mapped host memory are then visible.
     */
    public int cuCtxSynchronize()
    {
        return synchronize(state.current());
    }

    /**
     * cuCtxSynchronize_v2: waits for any context, the current one when {@code ctx} is 0.
     */
    public int cuCtxSynchronizeContext(final long ctx)
    {
        return synchronize(ctx == 0 ? state.current() : ctx);
    }

    public int cuCtxGetFlags(final long flags)
    {
        if (flags == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        NativeMemory.putInt(flags, 0);
        return CUDA_SUCCESS;
    }

    public int cuCtxGetApiVersion(final long ctx, final long version)
    {
        if (version == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        NativeMemory.putInt(version, CONTEXT_API_VERSION);
        return CUDA_SUCCESS;
    }

    /**
     * A context's unique id: its handle.
     */
    public int cuCtxGetId(final long ctx, final long ctxId)
    {
        if (ctxId == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final long context = ctx == 0 ? state.current() : ctx;
        if (context == 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        NativeMemory.putLong(ctxId, context);
        return CUDA_SUCCESS;
    }

    /**
     * On the current context's GPU (libraries such as cuBLAS read the limits at start-up).
     */
    public int cuCtxGetLimit(final long pvalue, final int limit)
    {
        if (pvalue == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        return contextLimit(pvalue, limit, false, 0);
    }

    /**
     * On the current context's GPU; the GPU may round the value, as cuCtxGetLimit then shows.
     */
    public int cuCtxSetLimit(final int limit, final long value)
    {
        return contextLimit(0, limit, true, value);
    }

    /**
     * Streams have one priority level here.
     */
    public int cuCtxGetStreamPriorityRange(final long leastPriority, final long greatestPriority)
    {
        NativeMemory.putIntIfWanted(leastPriority, 0);
        NativeMemory.putIntIfWanted(greatestPriority, 0);
        return CUDA_SUCCESS;
    }

    /**
     * GPUs of a program may sit on different servers and never reach each other's memory.
     */
    public int cuCtxEnablePeerAccess(final long peerContext, final int flags)
    {
        return CUDA_ERROR_PEER_ACCESS_UNSUPPORTED;
    }

    public int cuCtxDisablePeerAccess(final long peerContext)
    {
        return CUDA_ERROR_PEER_ACCESS_NOT_ENABLED;
    }

    private int synchronize(final long context)
    {
        final int device = state.deviceOf(context);
        if (device < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final int status = sessions.of(device).synchronize(SyncKind.CONTEXT_SYNCHRONIZE, ContextState.wireContext(context));
        return mapped.pullDeviceWritesAfter(status);
    }

    private int contextLimit(final long out, final int limit, final boolean set, final long value)
    {
        final ServerSession session = state.currentSession();
        if (session == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final CallSlot slot = session.slot();
        final int status = session.await(slot, session.proxy().contextLimit(slot, limit, set, value));
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putLongIfWanted(out, slot.value1());
        }
        return status;
    }
}
