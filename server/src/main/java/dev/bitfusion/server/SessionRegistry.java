package dev.bitfusion.server;

import dev.bitfusion.server.backend.GpuDescriptor;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingMillisIdleStrategy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's sessions and the slices promised on each of its GPUs: session opens reserve a slice and add the
 * session, listings read both, and a session removes itself, releasing its slice, once it has freed all it held.
 * <p>
 * Thread safety: thread safe; the control thread adds, session threads remove, any thread reads.
 */
final class SessionRegistry
{
    private final Map<Long, ClientSession> sessions = new ConcurrentHashMap<>();
    private final List<SliceLedger> ledgers = new ArrayList<>();
    private final AtomicLong nextSessionId = new AtomicLong(1);

    /**
     * @param gpus the server's GPUs, a ledger of slices for each.
     */
    SessionRegistry(final List<GpuDescriptor> gpus)
    {
        for (final GpuDescriptor gpu : gpus)
        {
            ledgers.add(new SliceLedger(gpu.totalBytes()));
        }
    }

    long nextSessionId()
    {
        return nextSessionId.getAndIncrement();
    }

    SliceLedger ledger(final int gpuIndex)
    {
        return ledgers.get(gpuIndex);
    }

    void add(final ClientSession session)
    {
        sessions.put(session.sessionId(), session);
    }

    /**
     * @param session a session that has ended; its slice returns to its GPU.
     */
    void remove(final ClientSession session)
    {
        sessions.remove(session.sessionId());
        ledgers.get(session.gpuIndex()).release(session.sessionId());
    }

    int size()
    {
        return sessions.size();
    }

    Collection<ClientSession> sessions()
    {
        return sessions.values();
    }

    List<ClientSession> sessionsOn(final int gpuIndex)
    {
        return sessions.values().stream().filter(session -> session.gpuIndex() == gpuIndex).toList();
    }

    /**
     * @return bytes all tenants hold on all GPUs.
     */
    long allocatedBytes()
    {
        long total = 0;
        for (final ClientSession session : sessions.values())
        {
            total += session.allocatedBytes();
        }
        return total;
    }

    /**
     * Ask every session to end, and wait for them to have freed what they held.
     *
     * @param timeoutNs how long to wait; a session stuck in a driver call is left behind.
     */
    void closeAll(final long timeoutNs)
    {
        for (final ClientSession session : sessions.values())
        {
            session.requestClose();
        }
        final IdleStrategy idleStrategy = new SleepingMillisIdleStrategy(1);
        final long deadlineNs = System.nanoTime() + timeoutNs;
        while (!sessions.isEmpty() && System.nanoTime() < deadlineNs)
        {
            idleStrategy.idle();
        }
    }
}
