package dev.bitfusion.agent.wire;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.Reservation;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import dev.bitfusion.transport.protocol.SessionOpenEncoder;
import dev.bitfusion.transport.protocol.SessionOpenReplyDecoder;
import dev.bitfusion.transport.protocol.SessionStatus;
import dev.bitfusion.transport.protocol.SyncKind;
import dev.bitfusion.transport.auth.Credentials;
import dev.bitfusion.transport.auth.FragmentAuthenticator;
import dev.bitfusion.transport.auth.Handshakes;
import dev.bitfusion.transport.auth.KeyExchange;
import dev.bitfusion.transport.auth.PeerKeys;
import io.aeron.ConcurrentPublication;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.SleepingMillisIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.PrintStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * One session with a GPU server: the ordered request publication, the reply subscription, the routing of
 * replies to the threads waiting for them, and what the server reports besides (asynchronous errors,
 * device printf output, its own loss).
 * <p>
 * Replies are received by whichever thread needs one: a waiting caller takes the poll lock and polls
 * itself (so a single-threaded program pays what a raw Aeron ping-pong pays), and delivers replies for
 * other threads on the way. A {@link SessionKeeper} agent polls when nobody waits, to pick up
 * asynchronous errors and device output, and to notice a dead server.
 * <p>
 * With a token, request fragments are tagged by the session's key; an encrypted session also encrypts them, and
 * its replies come encrypted and tagged: each is checked, then decrypted into a buffer of the session's own before
 * it is decoded (the reply image's log buffer is the server's).
 * <p>
 * Thread safety: thread safe; any number of threads may call at once.
 */
public final class ServerSession implements AutoCloseable, ReplyAdapter.Listener
{
    private static final int FRAGMENT_LIMIT = 64;
    /** Idle polls before a waiting caller checks whether the session died under it. */
    private static final int IDLE_POLLS_BEFORE_LIVENESS_CHECK = 100;

    private final Endpoint endpoint;
    private final ClientLink link;
    private final CallSlots slots = new CallSlots();
    private final ReplyAdapter replyAdapter;
    private final FragmentAssembler replyAssembler;
    private final FragmentHandler replyHandler = this::onReplyFragment;
    private final SessionProxy proxy = new SessionProxy(this);
    private final AtomicBoolean pollLock = new AtomicBoolean();
    private final long livenessTimeoutNs;
    private final PrintStream deviceOutput;
    /** Device printf text not yet shown: it appears at the program's next synchronisation, as with a GPU. */
    private final StringBuilder pendingDeviceOutput = new StringBuilder();
    /** Lets the synchronisations of programs that never print pass without taking the lock. */
    private volatile boolean deviceOutputPending;

    private Subscription replies;
    private ConcurrentPublication requests;
    /** Tags each request fragment when the server has a token; null when it asks for none. */
    private FragmentAuthenticator requestAuthenticator;
    /** Checks and decrypts each reply after the open reply in an encrypted session; null otherwise. */
    private FragmentAuthenticator replyAuthenticator;
    private UnsafeBuffer plaintextReply;
    private boolean repliesForged;
    private Credentials credentials;
    private KeyExchange keyExchange;
    private boolean encrypt;
    private long sessionId;
    private Reservation reservation;
    private boolean holdOnly;
    private DeviceInfo device;
    private long openCorrelationId;
    private Credentials.Transcript openTranscript;
    private byte[] serverPublicKey;
    private byte[] serverProof;
    private String openRefusal;

    private volatile int pendingError;
    private volatile int stickyError;
    private volatile String lastErrorMessage;
    private volatile boolean closed;
    private AgentRunner keeper;

    private ServerSession(final Endpoint endpoint, final ClientLink link, final PrintStream deviceOutput)
    {
        this.endpoint = endpoint;
        this.link = link;
        this.livenessTimeoutNs = link.transport().settings().livenessTimeoutNs();
        this.deviceOutput = deviceOutput;
        this.replyAdapter = new ReplyAdapter(slots, this);
        this.replyAssembler = new FragmentAssembler(replyAdapter);
    }

    /**
     * Open a session on one GPU of a server.
     *
     * @param endpoint     the server.
     * @param gpuIndex     which of its GPUs.
     * @param reservation  the job's reservation on that GPU to attach to and share, or null to take a slice (which
     *                     becomes a reservation of this session's own).
     * @param settings     slice size, token, transport choice, whether the session only holds its reservation.
     * @param deviceOutput where device printf output goes (the program's stdout).
     * @return the open session.
     * @throws SessionRefusedException when the server refuses or does not answer, with the reason.
     */
    public static ServerSession open(
        final Endpoint endpoint,
        final int gpuIndex,
        final Reservation reservation,
        final ClientSettings settings,
        final PrintStream deviceOutput)
    {
        final ClientLink link = ClientLink.towards(endpoint, settings.transport(), "client");
        final ServerSession session = new ServerSession(endpoint, link, deviceOutput);
        try
        {
            session.openSession(gpuIndex, reservation, settings);
        }
        catch (final RuntimeException ex)
        {
            session.closeTransport();
            throw ex;
        }
        return session;
    }

    /**
     * @return the reservation this session holds (with the key its other sessions show to attach) or attached to
     * (with the key it showed); null from a server that keeps none.
     */
    public Reservation reservation()
    {
        return reservation;
    }

    /**
     * @return what the server granted: the device as the slice presents it.
     */
    public DeviceInfo device()
    {
        return device;
    }

    public Endpoint endpoint()
    {
        return endpoint;
    }

    public long sessionId()
    {
        return sessionId;
    }

    /**
     * @return the encoder of this session's requests.
     */
    public SessionProxy proxy()
    {
        return proxy;
    }

    /**
     * @return true when the session's requests and replies are encrypted: data it asks another server to send it
     * is then encrypted too.
     */
    public boolean isEncrypted()
    {
        return encrypt;
    }

    /**
     * @return true when requests travel over shared memory rather than UDP.
     */
    public boolean isIpc()
    {
        return link.isIpc();
    }

    /**
     * @return the message of the last error the server reported, for people.
     */
    public String lastErrorMessage()
    {
        return lastErrorMessage;
    }

    /**
     * @return the sticky error that makes this session unusable, or CUDA_SUCCESS.
     */
    public int stickyError()
    {
        return stickyError;
    }

    /**
     * Take the error of an earlier asynchronous call, as the next synchronizing call reports it.
     *
     * @return the error, or CUDA_SUCCESS; a non-sticky error is cleared by taking it.
     */
    public int takeDeferredError()
    {
        final int sticky = stickyError;
        if (sticky != CuResult.CUDA_SUCCESS)
        {
            return sticky;
        }
        final int pending = pendingError;
        if (pending != CuResult.CUDA_SUCCESS)
        {
            pendingError = CuResult.CUDA_SUCCESS;
        }
        return pending;
    }

    /**
     * @return the calling thread's slot, where the replies to its calls land.
     */
    public CallSlot slot()
    {
        return slots.forCurrentThread();
    }

    /**
     * @return the largest message that travels unfragmented, which bounds chunks.
     */
    int maxPayloadLength()
    {
        return requests.maxPayloadLength();
    }

    /**
     * Offer an encoded request, waiting out back pressure with the calling thread's slot's idle strategy.
     *
     * @return CUDA_SUCCESS, or the error that makes the server unreachable.
     */
    int offer(final CallSlot slot, final DirectBuffer buffer, final int length)
    {
        return offer(slot, buffer, length, null, 0, 0);
    }

    /**
     * Offer a request made of an encoded head and a body taken straight from the caller's memory.
     */
    int offer(
        final CallSlot slot, final DirectBuffer head, final int headLength, final DirectBuffer body, final int bodyOffset,
        final int bodyLength)
    {
        final int sticky = stickyError;
        if (sticky != CuResult.CUDA_SUCCESS)
        {
            return sticky;
        }
        long notConnectedSinceNs = 0;
        boolean backPressured = false;
        while (true)
        {
            final long position = body == null ?
                requests.offer(head, 0, headLength, requestAuthenticator) :
                requests.offer(head, 0, headLength, body, bodyOffset, bodyLength, requestAuthenticator);
            if (position > 0)
            {
                return CuResult.CUDA_SUCCESS;
            }
            if (!backPressured)
            {
                backPressured = true;
                slot.sendIdle.reset();
            }
            if (position == Publication.CLOSED || position == Publication.MAX_POSITION_EXCEEDED)
            {
                return serverLost("request stream closed");
            }
            if (position == Publication.NOT_CONNECTED)
            {
                final long nowNs = System.nanoTime();
                if (notConnectedSinceNs == 0)
                {
                    notConnectedSinceNs = nowNs;
                }
                else if (nowNs - notConnectedSinceNs > livenessTimeoutNs)
                {
                    return serverLost("server not reachable for " +
                        TimeUnit.NANOSECONDS.toMillis(livenessTimeoutNs) + " ms");
                }
            }
            slot.sendIdle.idle();
            if (stickyError != CuResult.CUDA_SUCCESS)
            {
                return stickyError;
            }
            pollIfFree();
        }
    }

    /**
     * @param key    a copy's key, left as it is.
     * @param masked where the key goes as it travels in the request of {@code correlationId}.
     */
    void maskPeerKey(final long correlationId, final byte[] key, final byte[] masked)
    {
        System.arraycopy(key, 0, masked, 0, key.length);
        PeerKeys.mask(requestAuthenticator, correlationId, masked);
    }

    /**
     * Offer once, without waiting: for the goodbye, which the server's liveness check replaces if lost.
     */
    void offerOnce(final DirectBuffer buffer, final int length)
    {
        requests.offer(buffer, 0, length, requestAuthenticator);
    }

    /**
     * Wait for the reply to the call the proxy armed on {@code slot}, receiving replies meanwhile.
     *
     * @param sent what offering the request returned: when not CUDA_SUCCESS no reply will come.
     * @return the call's CUresult.
     */
    public int await(final CallSlot slot, final int sent)
    {
        return awaitReply(slot, sent, false);
    }

    /**
     * Wait for the first answer of a call answered twice ({@link SessionProxy#peerReceive}).
     *
     * @return CUDA_SUCCESS once the server acknowledged the call, the slot still waiting for the second answer
     * (take it with {@link #await}); else the call's final CUresult.
     */
    public int awaitAcknowledgement(final CallSlot slot, final int sent)
    {
        return awaitReply(slot, sent, true);
    }

    private int awaitReply(final CallSlot slot, final int sent, final boolean acknowledgementEnough)
    {
        if (sent != CuResult.CUDA_SUCCESS)
        {
            slot.expectedCorrelationId = -1;
            return sent;
        }
        int idlePolls = 0;
        slot.awaitIdle.reset();
        while (!slot.done)
        {
            if (acknowledgementEnough && slot.acknowledged)
            {
                return CuResult.CUDA_SUCCESS;
            }
            final int work = pollIfFree();
            if (slot.done || (acknowledgementEnough && slot.acknowledged))
            {
                continue;
            }
            if (work > 0)
            {
                idlePolls = 0;
                slot.awaitIdle.reset();
                continue;
            }
            if (++idlePolls > IDLE_POLLS_BEFORE_LIVENESS_CHECK &&
                (closed || stickyError == CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE))
            {
                slot.expectedCorrelationId = -1;
                return CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE;
            }
            slot.awaitIdle.idle();
        }
        slot.expectedCorrelationId = -1;
        return slot.result;
    }

    /**
     * cuCtxSynchronize, cuStreamSynchronize, cuEventSynchronize or a query: the reply comes once every
     * earlier request of the session executed; device output printed meanwhile is shown, and the error of
     * an earlier asynchronous call is returned now, as CUDA returns it at the next synchronisation.
     *
     * @param kind what to wait for or ask about.
     */
    public int synchronize(final SyncKind kind, final long handle)
    {
        final CallSlot slot = slot();
        final int status = await(slot, proxy.synchronize(slot, kind, handle));
        flushDeviceOutput();
        return status != CuResult.CUDA_SUCCESS ? status : takeDeferredError();
    }

    public void close()
    {
        if (closed)
        {
            return;
        }
        if (stickyError != CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE && requests != null)
        {
            proxy.sessionClose(sessionId);
        }
        closed = true;
        CloseHelper.quietClose(keeper);
        flushDeviceOutput();
        closeTransport();
    }

    boolean isClosed()
    {
        return closed;
    }

    /**
     * @return true once the server ended the session or was lost: nothing is held for it any more.
     */
    public boolean isLost()
    {
        return stickyError == CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE;
    }

    /**
     * Shows the device printf text received so far; called where the driver would show it: when a
     * synchronisation or a blocking copy returns, and when the session ends.
     */
    public void flushDeviceOutput()
    {
        if (!deviceOutputPending)
        {
            return;
        }
        synchronized (pendingDeviceOutput)
        {
            deviceOutput.print(pendingDeviceOutput);
            deviceOutput.flush();
            pendingDeviceOutput.setLength(0);
            deviceOutputPending = false;
        }
    }

    private void closeTransport()
    {
        closed = true;
        CloseHelper.quietCloseAll(requests, replies, link);
    }

    /**
     * Poll the replies unless another thread already does.
     *
     * @return the fragments received.
     */
    int pollIfFree()
    {
        if (!pollLock.compareAndSet(false, true))
        {
            return 0;
        }
        try
        {
            return replies.poll(replyHandler, FRAGMENT_LIMIT);
        }
        finally
        {
            pollLock.set(false);
        }
    }

    /**
     * A reply that fails its tag was not sent by the server: one forged at a position takes the place of the
     * server's, so the stream can no longer be trusted and the session is lost; nothing of it is decoded.
     */
    private void onReplyFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        final FragmentAuthenticator authenticator = replyAuthenticator;
        if (authenticator == null)
        {
            replyAssembler.onFragment(buffer, offset, length, header);
            return;
        }
        if (repliesForged)
        {
            return;
        }
        if (!authenticator.verify(buffer, offset, length, header))
        {
            repliesForged = true;
            serverLost("a reply at position " + header.position() + " failed authentication: someone other than " +
                "the server wrote into this session's replies");
            return;
        }
        authenticator.decrypt(buffer, offset, length, header, plaintextReply, 0);
        replyAssembler.onFragment(plaintextReply, 0, length, header);
    }

    /**
     * @return why the session can no longer reach its server, or null while it can. The media driver waits
     *         out the liveness timeout before it drops the reply image or the request stream's connection,
     *         so either going away means the server is gone.
     */
    String lossReason()
    {
        if (link.transport().isClosed())
        {
            return "the media driver serving this connection is gone";
        }
        if (!replies.isConnected() || !requests.isConnected())
        {
            return "no word from the server for " + TimeUnit.NANOSECONDS.toMillis(livenessTimeoutNs) + " ms";
        }
        return null;
    }

    int serverLost(final String why)
    {
        if (stickyError != CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE)
        {
            final String message = "bitfusion: lost the GPU server " + endpoint + " (session " + sessionId + "): " +
                why + "; CUDA calls now fail with CUDA_ERROR_DEVICE_UNAVAILABLE";
            lastErrorMessage = message;
            stickyError = CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE;
            if (!holdOnly)
            {
                // A holder's loss is its owner's to report (ReservationHolder.lostReason): the program's own sessions
                // say this line when they are lost, and only they.
                System.err.println(message);
            }
            slots.completeAll(CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE, message);
        }
        return CuResult.CUDA_ERROR_DEVICE_UNAVAILABLE;
    }

    public void onAsyncError(final int result, final boolean sticky, final String message)
    {
        lastErrorMessage = message;
        if (sticky)
        {
            stickyError = result;
        }
        else if (pendingError == CuResult.CUDA_SUCCESS)
        {
            pendingError = result;
        }
        System.err.println("bitfusion: server reported " + CuResult.describe(result) + ": " + message);
    }

    public void onDeviceOutput(final String text)
    {
        synchronized (pendingDeviceOutput)
        {
            pendingDeviceOutput.append(text);
            deviceOutputPending = true;
        }
    }

    public void onSessionOpenReply(final SessionOpenReplyDecoder reply)
    {
        if (reply.correlationId() != openCorrelationId || device != null)
        {
            return;
        }
        if (reply.status() != SessionStatus.OPENED)
        {
            final SessionStatus status = reply.status();
            for (final SessionOpenReplyDecoder.AttributesDecoder ignored : reply.attributes())
            {
                // Var data follows the group: step over it to reach the message.
            }
            reply.skipDeviceName();
            openRefusal = status + ": " + reply.message();
            return;
        }
        sessionId = reply.sessionId();
        final int requestStreamId = reply.requestStreamId();
        final long sliceBytes = reply.sliceBytes();
        final int major = reply.computeCapabilityMajor();
        final int minor = reply.computeCapabilityMinor();
        final byte[] uuid = new byte[16];
        reply.getUuid(uuid, 0, 16);
        if (reservation == null && reply.reservationId() > 0)
        {
            // This session took a slice: it holds the reservation, and only its holder is given the key.
            final byte[] key = new byte[Reservation.KEY_LENGTH];
            reply.getReservationKey(key, 0, key.length);
            reservation = new Reservation(reply.reservationId(), key);
        }
        final SessionOpenReplyDecoder.AttributesDecoder attributesDecoder = reply.attributes();
        final int[] ids = new int[attributesDecoder.count()];
        final int[] values = new int[attributesDecoder.count()];
        int i = 0;
        for (final SessionOpenReplyDecoder.AttributesDecoder attribute : attributesDecoder)
        {
            ids[i] = attribute.attribute();
            values[i] = attribute.value();
            i++;
        }
        final String deviceName = reply.deviceName();
        reply.skipMessage();
        final byte[] serverKey = new byte[reply.serverPublicKeyLength()];
        reply.getServerPublicKey(serverKey, 0, serverKey.length);
        final byte[] proof = new byte[reply.serverProofLength()];
        reply.getServerProof(proof, 0, proof.length);
        serverPublicKey = serverKey;
        serverProof = proof;
        if (credentials.hasToken())
        {
            // Now, while polling: in an encrypted session the server's next reply is encrypted already.
            acceptKeys();
        }
        device = new DeviceInfo(deviceName, sliceBytes, major, minor, uuid, ids, values, requestStreamId);
    }

    private void openSession(final int gpuIndex, final Reservation reservation, final ClientSettings settings)
    {
        this.reservation = reservation;
        this.holdOnly = settings.holdOnly();
        credentials = Credentials.ofToken(settings.token());
        encrypt = settings.encrypt();
        if (encrypt && !credentials.hasToken())
        {
            throw new SessionRefusedException("bitfusion: an encrypted session (" + ClientSettings.ENCRYPT_ENV_NAME +
                ") needs the server's token (" + ClientSettings.TOKEN_ENV_NAME + " or ~/.bitfusion/token): its keys " +
                "come from the token's key exchange");
        }
        // The session's own reply stream and request stream exist before the open, so the server can bind the
        // session to the request publication's Aeron session id and answer on the path it opened.
        replies = link.addReplySubscription(Protocol.newClientStreamId());
        requests = link.addRequestPublication(Protocol.newClientStreamId(), replies);
        keyExchange = credentials.hasToken() ? KeyExchange.generate() : null;
        final byte[] clientPublicKey = keyExchange != null ? keyExchange.publicKey() : new byte[0];

        try (ControlClient control = new ControlClient(link, endpoint))
        {
            openCorrelationId = ControlClient.newCorrelationId();
            final long reservationId = reservation != null ? reservation.id() : 0;
            final byte[] reservationKey = reservation != null ? reservation.key() : new byte[Reservation.KEY_LENGTH];
            final long timestampMs = System.currentTimeMillis();
            openTranscript = Handshakes.sessionOpen(openCorrelationId, Protocol.VERSION, gpuIndex,
                settings.memoryFraction(), settings.memoryMb(), control.replyStreamId(), requests.streamId(),
                requests.sessionId(), replies.streamId(), timestampMs, settings.clientId(), clientPublicKey, encrypt,
                reservationId, reservationKey, settings.holdOnly(), settings.waitTicket(), settings.waitSinceMs());
            final byte[] proof = credentials.prove(openTranscript);
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
            final SessionOpenEncoder encoder = new SessionOpenEncoder()
                .wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
                .correlationId(openCorrelationId)
                .protocolVersion(Protocol.VERSION)
                .gpuIndex(gpuIndex)
                .memoryFraction(settings.memoryFraction())
                .memoryMb(settings.memoryMb())
                .replyStreamId(control.replyStreamId())
                .requestStreamId(requests.streamId())
                .requestSessionId(requests.sessionId())
                .sessionReplyStreamId(replies.streamId())
                .timestampMs(timestampMs)
                .encrypt((short)(encrypt ? 1 : 0))
                .reservationId(reservationId)
                .putReservationKey(reservationKey, 0, reservationKey.length)
                .holdOnly((short)(settings.holdOnly() ? 1 : 0))
                .waitTicket(settings.waitTicket())
                .waitSinceMs(settings.waitSinceMs())
                .clientId(settings.clientId());
            encoder.putClientPublicKey(clientPublicKey, 0, clientPublicKey.length);
            encoder.putAuthProof(proof, 0, proof.length);
            encoder.putPadding(ControlClient.REFUSAL_ROOM, 0, ControlClient.REFUSAL_ROOM.length);
            control.exchange(buffer, MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength(), replyAdapter,
                () -> device != null || openRefusal != null, () -> replies.poll(replyHandler, FRAGMENT_LIMIT),
                settings.openTimeoutNs());
        }
        if (openRefusal != null)
        {
            throw new SessionRefusedException("bitfusion server " + endpoint + " refused the session: " + openRefusal);
        }
        final long deadlineNs = System.nanoTime() + settings.openTimeoutNs();
        while (!requests.isConnected())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new SessionRefusedException("bitfusion server " + endpoint + " opened session " + sessionId +
                    " but its request stream did not connect");
            }
            LockSupport.parkNanos(100_000);
        }

        keeper = new AgentRunner(new SleepingMillisIdleStrategy(1),
            error ->
            {
                if (!(error instanceof AgentTerminationException))
                {
                    System.err.println("bitfusion: session " + sessionId + " keeper failed: " + error);
                }
            },
            null, new SessionKeeper(this));
        AgentRunner.startOnThread(keeper, runnable ->
        {
            final Thread thread = new Thread(runnable, "bitfusion-keeper-" + sessionId);
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * A client with a token trusts the session only once the server has proved the token too (so a stranger posing
     * as the server learns nothing), and tags its requests with the key only the two of them can derive; in an
     * encrypted session it also encrypts them, and checks and decrypts the replies. Without a server key the server
     * has no token and asks for nothing.
     *
     * @throws SessionRefusedException when the server cannot prove the token or sent an unusable key.
     */
    private void acceptKeys()
    {
        if (serverPublicKey.length == 0)
        {
            if (encrypt)
            {
                throw new SessionRefusedException("bitfusion server " + endpoint + " opened the session without a " +
                    "key exchange: it has no token, so it cannot encrypt");
            }
            return;
        }
        final Credentials.Transcript accept = Handshakes.sessionAccept(openTranscript, sessionId, serverPublicKey);
        if (!credentials.verifies(accept, serverProof))
        {
            throw new SessionRefusedException("bitfusion server " + endpoint + " could not prove it holds the token " +
                "this client has: it is not the server the token is for");
        }
        final byte[] sharedSecret;
        try
        {
            sharedSecret = keyExchange.sharedSecret(serverPublicKey);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new SessionRefusedException("bitfusion server " + endpoint + " sent an unusable key: " + ex.getMessage());
        }
        requestAuthenticator = Handshakes.requestAuthenticator(credentials, sharedSecret, accept, encrypt);
        if (encrypt)
        {
            plaintextReply = new UnsafeBuffer(new byte[FragmentAuthenticator.MAX_FRAGMENT_PAYLOAD]);
            replyAuthenticator = Handshakes.replyAuthenticator(credentials, sharedSecret, accept);
        }
    }
}
