package dev.bitfusion.server;

import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.GpuDescriptor;
import dev.bitfusion.server.status.TrafficCounters;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.protocol.SessionStatus;
import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;

import java.util.List;

/**
 * Decides a SessionOpen: the client's protocol version and token, the GPU it names, the server's session limit
 * and whether the slice it asks for fits. A refusal goes back through the {@link ControlReplyProxy} with the
 * reason; an admitted session gets its slice reserved, its streams, its tenant on the GPU and its counters, and
 * starts as a {@link ClientSession} on a thread of its own, where it sends its own SessionOpenReply.
 * <p>
 * Thread safety: the control thread only.
 */
final class SessionAdmission
{
    private final GpuServer.Context context;
    private final Aeron aeron;
    private final SessionRegistry registry;
    private final List<TrafficCounters> gpuCounters;
    private final ControlReplyProxy replyProxy;
    private final String udpChannel;
    private final String ipcChannel;

    /**
     * @param gpuCounters the counters of each GPU, which its sessions' counters add to.
     * @param udpChannel  the channel of request streams of clients that came over UDP.
     * @param ipcChannel  the channel of request streams of clients that came over IPC.
     */
    SessionAdmission(
        final GpuServer.Context context,
        final Aeron aeron,
        final SessionRegistry registry,
        final List<TrafficCounters> gpuCounters,
        final ControlReplyProxy replyProxy,
        final String udpChannel,
        final String ipcChannel)
    {
        this.context = context;
        this.aeron = aeron;
        this.registry = registry;
        this.gpuCounters = gpuCounters;
        this.replyProxy = replyProxy;
        this.udpChannel = udpChannel;
        this.ipcChannel = ipcChannel;
    }

    /**
     * @param fraction     a share of the GPU's memory in (0, 1], or 0 when memoryMb is used.
     * @param memoryMb     a size, or 0 when fraction is used; both 0: the whole GPU.
     * @param replyChannel a channel the adapter found acceptable.
     * @param overIpc      whether the request came over IPC, where the session's requests will too.
     */
    void onSessionOpen(
        final long correlationId,
        final int protocolVersion,
        final int gpuIndex,
        final double fraction,
        final long memoryMb,
        final int replyStreamId,
        final String clientId,
        final String token,
        final String replyChannel,
        final boolean overIpc)
    {
        if (protocolVersion != Protocol.VERSION)
        {
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.PROTOCOL_MISMATCH,
                "client protocol version " + protocolVersion + " does not match server version " + Protocol.VERSION +
                "; install the same bitfusion version on client and server");
            return;
        }
        if (!context.authenticator().accepts(token))
        {
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.AUTH_REFUSED,
                "authentication token refused; set BITFUSION_TOKEN or ~/.bitfusion/token to the server's token");
            return;
        }
        final List<GpuDescriptor> gpus = context.backend().gpus();
        if (gpuIndex < 0 || gpuIndex >= gpus.size())
        {
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.NO_SUCH_GPU,
                "GPU " + gpuIndex + " does not exist; the server has " + gpus.size());
            return;
        }
        if (registry.size() >= context.maxSessions())
        {
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.SLICE_UNAVAILABLE,
                "the server has " + registry.size() + " sessions open, its limit; try again later");
            return;
        }
        if (fraction > 0 && memoryMb > 0 || fraction < 0 || fraction > 1 || memoryMb < 0 || Double.isNaN(fraction))
        {
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.BAD_REQUEST,
                "a slice is a fraction in (0, 1] or a size in MB, not both: got fraction " + fraction +
                ", " + memoryMb + " MB");
            return;
        }

        final SliceLedger ledger = registry.ledger(gpuIndex);
        final long sliceBytes;
        if (fraction > 0)
        {
            sliceBytes = (long)(ledger.totalBytes() * fraction);
        }
        else if (memoryMb > 0)
        {
            sliceBytes = memoryMb << 20;
        }
        else
        {
            sliceBytes = ledger.totalBytes();
        }

        final long sessionId = registry.nextSessionId();
        if (!ledger.reserve(sessionId, sliceBytes))
        {
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.SLICE_UNAVAILABLE,
                "GPU " + gpuIndex + " has " + (ledger.unreservedBytes() >> 20) + " MiB unreserved of " +
                (ledger.totalBytes() >> 20) + " MiB; the requested slice of " + (sliceBytes >> 20) +
                " MiB does not fit");
            return;
        }

        start(sessionId, correlationId, clientId, gpus.get(gpuIndex), sliceBytes, replyChannel, replyStreamId, overIpc);
    }

    private void start(
        final long sessionId,
        final long correlationId,
        final String clientId,
        final GpuDescriptor gpu,
        final long sliceBytes,
        final String replyChannel,
        final int replyStreamId,
        final boolean overIpc)
    {
        final int requestStreamId = registry.nextStreamId();
        Subscription requests = null;
        ExclusivePublication replies = null;
        BackendSession backendSession = null;
        TrafficCounters counters = null;
        try
        {
            requests = aeron.addSubscription(overIpc ? ipcChannel : udpChannel, requestStreamId);
            replies = aeron.addExclusivePublication(replyChannel, replyStreamId);
            counters = TrafficCounters.forSession(aeron, sessionId, clientId, gpuCounters.get(gpu.index()), gpu.index());
            backendSession = context.backend().openSession(gpu.index(), sliceBytes);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(requests, replies, counters);
            if (backendSession != null)
            {
                backendSession.close();
            }
            registry.ledger(gpu.index()).release(sessionId);
            // The client hears why at once rather than waiting out its timeout and blaming the network.
            refuse(correlationId, replyChannel, replyStreamId, SessionStatus.SLICE_UNAVAILABLE,
                "GPU " + gpu.index() + " cannot open a session for '" + clientId + "': " + ex.getMessage());
            return;
        }

        final ClientSession session = new ClientSession(
            sessionId, clientId, gpu, requestStreamId, correlationId, requests, replies, backendSession, counters,
            context.hostMemoryBudget().newAccount(), context.errorLog(), context.transportSettings().livenessTimeoutNs(), registry::remove);
        registry.add(session);
        context.errorLog().info("session " + sessionId + " opened for '" + clientId + "' on GPU " +
            gpu.index() + ": " + (sliceBytes >> 20) + " MiB slice over " + (overIpc ? "ipc" : "udp"));

        // A thread per session: a blocking driver call stalls only its own tenant.
        final AgentRunner runner = new AgentRunner(ClientSession.idleStrategy(), context.errorLog(), null, session);
        AgentRunner.startOnThread(runner, (task) ->
        {
            final Thread thread = new Thread(task);
            thread.setDaemon(true);
            return thread;
        });
    }

    private void refuse(
        final long correlationId,
        final String replyChannel,
        final int replyStreamId,
        final SessionStatus status,
        final String reason)
    {
        context.errorLog().record("session refused (" + status + "): " + reason);
        replyProxy.sendRefusal(correlationId, replyChannel, replyStreamId, status, reason);
    }
}
