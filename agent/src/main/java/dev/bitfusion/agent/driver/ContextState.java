package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.ServerSession;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which context each thread has current, and which GPU each context is on: what every call that acts "on
 * the current context" asks first. Primary contexts are named by their device ({@link #primaryContext});
 * contexts made with cuCtxCreate get handles and are remembered here until destroyed.
 * <p>
 * Thread safety: thread safe; each thread's stack is its own, as CUDA specifies.
 */
final class ContextState
{
    private static final long PRIMARY_CONTEXT_TAG = 0xC0L << 40;
    private static final long PRIMARY_DEVICE_MASK = 0xffffL;

    private final Sessions sessions;
    private final Map<Long, Integer> createdContextDevices = new ConcurrentHashMap<>();
    private final ThreadLocal<ContextStack> stacks = ThreadLocal.withInitial(ContextStack::new);

    ContextState(final Sessions sessions)
    {
        this.sessions = sessions;
    }

    /**
     * @return the calling thread's context stack.
     */
    ContextStack stack()
    {
        return stacks.get();
    }

    long current()
    {
        return stacks.get().current();
    }

    /**
     * @return the GPU of the calling thread's current context, or -1 without one.
     */
    int currentDevice()
    {
        return deviceOf(current());
    }

    /**
     * @return the session of the current context's GPU, or null without a current context.
     */
    ServerSession currentSession()
    {
        final int device = currentDevice();
        return device < 0 ? null : sessions.of(device);
    }

    /**
     * @return the device of a context this program holds, or -1 for an unknown one.
     */
    int deviceOf(final long context)
    {
        if (context == 0 || !sessions.isInitialised())
        {
            return -1;
        }
        if ((context & ~PRIMARY_DEVICE_MASK) == PRIMARY_CONTEXT_TAG)
        {
            final int device = (int)(context & PRIMARY_DEVICE_MASK);
            return device < sessions.count() ? device : -1;
        }
        final Integer device = createdContextDevices.get(context);
        return device == null ? -1 : device;
    }

    void created(final long context, final int device)
    {
        createdContextDevices.put(context, device);
    }

    /**
     * @return the device of a created context that is now forgotten, or null when it was not one.
     */
    Integer destroyed(final long context)
    {
        return createdContextDevices.remove(context);
    }

    static long primaryContext(final int device)
    {
        return PRIMARY_CONTEXT_TAG | device;
    }

    /**
     * @return the context as the server names it: 0 for a primary context, the session's own.
     */
    static long wireContext(final long context)
    {
        return (context & ~PRIMARY_DEVICE_MASK) == PRIMARY_CONTEXT_TAG ? 0 : context;
    }
}
