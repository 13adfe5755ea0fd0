package dev.bitfusion.server;

import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.GpuDescriptor;
import dev.bitfusion.server.status.TrafficCounters;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.OwnerLock;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.auth.Credentials;
import dev.bitfusion.transport.auth.Handshakes;
import dev.bitfusion.transport.protocol.SessionStatus;
import io.aeron.Aeron;
import io.aeron.Subscription;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;

import java.util.List;

/**
 * Decides a SessionOpen: the client's protocol version and proof of the token, the GPU it names, the server's
 * session limit and whether the slice it asks for fits, or, for a session of a job, whether the {@link Reservation}
 * it names is held here under the key it shows. A refusal goes back through the {@link ControlReplyProxy}
 * with the reason; an admitted session gets its slice reserved (as a reservation it holds) or shares its job's, a request stream that hears only the publication
 * the client named, its tenant on the GPU and its counters, and starts as a {@link ClientSession} on a thread of
 * its own, which binds it to its client ({@link SessionBinding}) and sends its own SessionOpenReply.
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
     * A SessionOpen as the control adapter decoded it, with where it came from.
     *
     * @param memoryFraction       a share of the GPU's memory in (0, 1], or 0 when memoryMb is used.
     * @param memoryMb             a size, or 0 when memoryFraction is used; both 0: the whole GPU.
     * @param replyStreamId        where a refusal goes, on the control path.
     * @param requestStreamId      the session's request stream, as the client chose it.
     * @param requestSessionId     the Aeron session id of the client's request publication: the only one accepted.
     * @param sessionReplyStreamId where the session's replies go.
     * @param clientPublicKey      the client's side of the key exchange; empty without a token.
     * @param reservationId        0 to take a slice; else the reservation to attach to.
     * @param reservationKey       the key shown for it.
     * @param holdOnly             true when the session only holds its reservation: no device context, no calls.
     * @param waitTicket           0, or the ticket of a client waiting in line for room ({@link WaitLine}).
     * @param waitSinceMs          when that client began to wait.
     * @param authProof            the client's proof of the token; empty without one.
     * @param replyChannel         the channel back to the client on the control path.
     * @param sourceHost           the address the request came from over UDP, or null over IPC.
     * @param requestLength        the request's length: a refusal to a stranger is no longer.
     */
    record OpenRequest(
        long correlationId,
        int protocolVersion,
        int gpuIndex,
        double memoryFraction,
        long memoryMb,
        int replyStreamId,
        int requestStreamId,
        int requestSessionId,
        int sessionReplyStreamId,
        long timestampMs,
        String clientId,
        byte[] clientPublicKey,
        boolean encrypt,
        long reservationId,
        byte[] reservationKey,
        boolean holdOnly,
        long waitTicket,
        long waitSinceMs,
        byte[] authProof,
        String replyChannel,
        String sourceHost,
        int requestLength)
    {
        boolean overIpc()
        {
            return sourceHost == null;
        }

        Credentials.Transcript transcript()
        {
            return Handshakes.sessionOpen(correlationId, protocolVersion, gpuIndex, memoryFraction, memoryMb,
                replyStreamId, requestStreamId, requestSessionId, sessionReplyStreamId, timestampMs, clientId,
                clientPublicKey, encrypt, reservationId, reservationKey, holdOnly, waitTicket, waitSinceMs);
        }
    }

    void onSessionOpen(final OpenRequest request)
    {
        // Until the client has proved the token, it is a stranger: it learns why it is refused in no more bytes
        // than it sent, and nothing else.
        if (request.protocolVersion() != Protocol.VERSION)
        {
            refuse(request, SessionStatus.PROTOCOL_MISMATCH,
                "client protocol version " + request.protocolVersion() + " does not match server version " +
                Protocol.VERSION + "; install the same bitfusion version on client and server", request.requestLength());
            return;
        }
        final TokenAuthenticator.Access access = context.authenticator().authorize(request.transcript(),
            request.authProof(), request.correlationId(), request.timestampMs(), System.currentTimeMillis());
        if (!access.granted())
        {
            refuse(request, SessionStatus.AUTH_REFUSED, context.authenticator().refusal(), request.requestLength());
            return;
        }
        if (access != TokenAuthenticator.Access.OPEN && request.clientPublicKey().length == 0)
        {
            refuse(request, SessionStatus.BAD_REQUEST, "a client with a token must send its key exchange");
            return;
        }
        if (request.encrypt() && access == TokenAuthenticator.Access.OPEN)
        {
            refuse(request, SessionStatus.BAD_REQUEST, "the client asked for an encrypted session, but this server " +
                "has no token, and the keys come from the token's key exchange: start the server with --token-file");
            return;
        }
        if (context.encryptionRequired() && !request.encrypt())
        {
            refuse(request, SessionStatus.AUTH_REFUSED, "this server requires encrypted sessions: set " +
                "BITFUSION_ENCRYPT=1 (bitfusion run --encrypt, or -Dbitfusion.client.encrypt=true) for the client");
            return;
        }
        final List<GpuDescriptor> gpus = context.backend().gpus();
        final int gpuIndex = request.gpuIndex();
        if (gpuIndex < 0 || gpuIndex >= gpus.size())
        {
            refuse(request, SessionStatus.NO_SUCH_GPU, "GPU " + gpuIndex + " does not exist; the server has " + gpus.size());
            return;
        }
        if (registry.size() >= context.maxSessions())
        {
            refuse(request, SessionStatus.SLICE_UNAVAILABLE,
                "the server has " + registry.size() + " sessions open, its limit; try again later");
            return;
        }
        final double fraction = request.memoryFraction();
        final long memoryMb = request.memoryMb();
        if (fraction > 0 && memoryMb > 0 || fraction < 0 || fraction > 1 || memoryMb < 0 || Double.isNaN(fraction))
        {
            refuse(request, SessionStatus.BAD_REQUEST,
                "a slice is a fraction in (0, 1] or a size in MB, not both: got fraction " + fraction +
                ", " + memoryMb + " MB");
            return;
        }
        if (request.requestStreamId() < Protocol.FIRST_CLIENT_STREAM_ID)
        {
            refuse(request, SessionStatus.BAD_REQUEST, "request stream " + request.requestStreamId() +
                " is below " + Protocol.FIRST_CLIENT_STREAM_ID + ", where the server's own streams are");
            return;
        }

        if (request.reservationId() != 0)
        {
            attach(request, access, gpus);
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

        // While clients wait in line for room, a new slice goes to the first of them only.
        final long nowNs = System.nanoTime();
        final WaitLine waitLine = registry.waitLine();
        if (request.waitTicket() > 0)
        {
            waitLine.renew(request.waitTicket(), request.waitSinceMs(), nowNs);
        }
        final int ahead = waitLine.ahead(request.waitTicket(), nowNs);
        if (ahead > 0)
        {
            refuse(request, SessionStatus.SLICE_UNAVAILABLE, ahead + (ahead == 1 ? " request waits" : " requests wait") +
                " for room on this server ahead of this one; they are served first, in the order they came " +
                "(bitfusion run --timeout SECONDS waits in line)");
            return;
        }

        final long sessionId = registry.nextSessionId();
        final Reservation reservation = registry.reserve(sessionId, gpuIndex, sliceBytes, request.clientId());
        if (reservation == null)
        {
            refuse(request, SessionStatus.SLICE_UNAVAILABLE,
                "GPU " + gpuIndex + " has " + (ledger.unreservedBytes() >> 20) + " MiB unreserved of " +
                (ledger.totalBytes() >> 20) + " MiB; the requested slice of " + (sliceBytes >> 20) +
                " MiB does not fit");
            return;
        }

        if (request.waitTicket() > 0)
        {
            waitLine.served(request.waitTicket());
        }
        start(sessionId, request, gpus.get(gpuIndex), reservation,
            access == TokenAuthenticator.Access.OPEN ? null : context.authenticator().token());
    }

    /**
     * A session of a job whose holder took the slice: it shares the reservation's slice and takes nothing new, so
     * it opens even when the GPU has nothing unreserved.
     */
    private void attach(final OpenRequest request, final TokenAuthenticator.Access access, final List<GpuDescriptor> gpus)
    {
        final Reservation reservation = registry.reservation(request.reservationId());
        // One answer for a reservation that does not exist and a wrong key: a guess learns nothing.
        if (reservation == null || !reservation.isKey(request.reservationKey()))
        {
            refuse(request, SessionStatus.SLICE_UNAVAILABLE, "reservation " + request.reservationId() + " is not held " +
                "on this server (its holder ended or released it, or the key is wrong)");
            return;
        }
        if (reservation.gpuIndex() != request.gpuIndex())
        {
            refuse(request, SessionStatus.BAD_REQUEST, "reservation " + request.reservationId() + " is on GPU " +
                reservation.gpuIndex() + ", not GPU " + request.gpuIndex());
            return;
        }
        if (request.holdOnly())
        {
            refuse(request, SessionStatus.BAD_REQUEST, "a reservation has one holder: a session attached to one " +
                "cannot be hold-only");
            return;
        }
        final long sessionId = registry.nextSessionId();
        if (!reservation.attach(sessionId))
        {
            refuse(request, SessionStatus.SLICE_UNAVAILABLE, "reservation " + request.reservationId() +
                " is ending: its holder is gone");
            return;
        }
        start(sessionId, request, gpus.get(reservation.gpuIndex()), reservation,
            access == TokenAuthenticator.Access.OPEN ? null : context.authenticator().token());
    }

    private void start(
        final long sessionId,
        final OpenRequest request,
        final GpuDescriptor gpu,
        final Reservation reservation,
        final Credentials sessionCredentials)
    {
        final String clientId = request.clientId();
        final boolean overIpc = request.overIpc();
        Subscription requests = null;
        BackendSession backendSession = null;
        TrafficCounters counters = null;
        try
        {
            // Only the publication the opener named can feed this stream: a stranger that guessed the stream id
            // is not heard.
            requests = aeron.addSubscription(
                ChannelUris.onlySession(overIpc ? ipcChannel : udpChannel, request.requestSessionId()),
                request.requestStreamId());
            counters = TrafficCounters.forSession(aeron, sessionId, clientId, gpuCounters.get(gpu.index()), gpu.index());
            // A holder's session has no device context: it costs the GPU nothing beyond the slice it holds.
            backendSession = request.holdOnly() ? null : context.backend().openSession(gpu.index(), reservation.budget());
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(requests, counters);
            if (backendSession != null)
            {
                backendSession.close();
            }
            registry.abandon(sessionId, reservation);
            // The client hears why at once rather than waiting out its timeout and blaming the network.
            refuse(request, SessionStatus.SLICE_UNAVAILABLE,
                "GPU " + gpu.index() + " cannot open a session for '" + clientId + "': " + ex.getMessage());
            return;
        }

        final SessionBinding binding = new SessionBinding(request, sessionId, context, sessionCredentials);
        final ClientSession session = new ClientSession(
            sessionId, clientId, gpu, binding, requests, aeron, udpChannel, context.transportSettings(), backendSession,
            reservation, counters,
            context.hostMemoryBudget().newAccount(), context.errorLog(), context.transportSettings().livenessTimeoutNs(),
            overIpc ? OwnerLock.ipcClientFile(context.transportSettings().aeronDirectoryName(),
                request.sessionReplyStreamId()) : null,
            (ended) -> registry.remove(ended, reservation));
        registry.add(session, reservation);
        context.errorLog().info("session " + sessionId + " opened for '" + clientId + "' on GPU " +
            gpu.index() + ": " + (reservation.budget().sliceBytes() >> 20) + " MiB slice" +
            (reservation.id() == sessionId ? (request.holdOnly() ? ", held for a job," : "") :
            " of reservation " + reservation.id() + ",") + " over " + (overIpc ? "ipc" : "udp from " +
            request.sourceHost()) + (sessionCredentials != null ? ", requests authenticated" : ""));

        // A thread per session: a blocking driver call stalls only its own tenant.
        final AgentRunner runner = new AgentRunner(ClientSession.idleStrategy(), context.errorLog(), null, session);
        AgentRunner.startOnThread(runner, (task) ->
        {
            final Thread thread = new Thread(task);
            thread.setDaemon(true);
            return thread;
        });
    }

    private void refuse(final OpenRequest request, final SessionStatus status, final String reason)
    {
        refuse(request, status, reason, Integer.MAX_VALUE);
    }

    private void refuse(final OpenRequest request, final SessionStatus status, final String reason, final int maxLength)
    {
        context.errorLog().record("session refused (" + status + ") for '" + request.clientId() + "' from " +
            (request.overIpc() ? "ipc" : request.sourceHost()) + ": " + reason);
        replyProxy.sendRefusal(request.correlationId(), request.replyChannel(), request.replyStreamId(), status, reason,
            maxLength);
    }
}
