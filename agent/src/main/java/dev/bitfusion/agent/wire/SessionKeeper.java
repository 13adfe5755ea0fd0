package dev.bitfusion.agent.wire;

import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;

/**
 * Keeps a session alive between calls: polls its replies when no caller does (asynchronous errors and
 * device output arrive unasked) and notices a server that is gone, failing every waiting and later call
 * with CUDA_ERROR_DEVICE_UNAVAILABLE.
 * <p>
 * Thread safety: runs on its own agent thread; everything it touches on the session is thread safe.
 */
final class SessionKeeper implements Agent
{
    private final ServerSession session;

    SessionKeeper(final ServerSession session)
    {
        this.session = session;
    }

    public int doWork()
    {
        if (session.isClosed())
        {
            throw new AgentTerminationException();
        }
        final int work = session.pollIfFree();
        final String lost = session.lossReason();
        if (lost != null)
        {
            session.serverLost(lost);
            throw new AgentTerminationException();
        }
        return work;
    }

    public String roleName()
    {
        return "bitfusion-keeper";
    }
}
