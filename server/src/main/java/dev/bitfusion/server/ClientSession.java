package dev.bitfusion.server;

import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.server.backend.GpuDescriptor;
import dev.bitfusion.server.backend.ParameterLayout;
import dev.bitfusion.server.status.TrafficCounters;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.transport.OwnerLock;
import dev.bitfusion.transport.TransportSettings;
import dev.bitfusion.transport.auth.PeerKeys;
import dev.bitfusion.transport.protocol.SyncKind;
import dev.bitfusion.transport.protocol.TensorMapArgumentsDecoder;
import io.aeron.Aeron;
import io.aeron.Image;
import io.aeron.Subscription;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * One client's session: its state machine, an Agrona {@link Agent} on a thread of its own, so that a blocking
 * CUDA call (a long kernel, a big copy) holds up this tenant only. Its {@link SessionAdapter} decodes the
 * requests, this class executes each in order against the backend, and its {@link SessionReplyProxy} encodes
 * the answers.
 * <pre>
 *   AWAIT_REQUEST_STREAM  until the client's request publication connects: bound to the client, the reply
 *                         publication made on its path and, with a token, the session's keys made
 *                         ({@link SessionBinding})
 *   AWAIT_REPLY_STREAM    until the client's reply subscription connects to that publication
 *   SEND_OPEN_REPLY       until the SessionOpenReply goes out
 *   ACTIVE              requests executed as they come; liveness of both streams checked
 *   DONE                the runner stops; onClose frees all the session held and its slice
 * </pre>
 * The session ends when the client closes it; when the client's request publication disappears or its reply
 * stream loses the client (process died or network gone: the driver notices within the peer timeout); when an
 * IPC client's process lock is free (its process died: noticed within a quarter second, where the driver would
 * wait out its client liveness timeout); when the client takes no reply for the liveness timeout; when the server
 * stops; or when executing a request fails unexpectedly (the client is told with a sticky asynchronous error).
 * <p>
 * A reply the publication refuses (back pressure) is queued and sent before the next request is taken, so
 * replies stay in order. Device-to-host data and device printf are the exception: the backend holds their
 * bytes only while it calls back, so they are retried there until the liveness timeout.
 * <p>
 * Thread safety: {@link #doWork()}, {@link #onClose()} and the request handlers on the session's thread;
 * {@link #requestClose()} and the accessors from any thread; device printf from the threads of a launch, one
 * at a time.
 */
final class ClientSession implements Agent, SessionTraffic
{
    private static final long MIN_REPLY_CONNECT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(2);
    /** How often an IPC client's process lock is probed: a few system calls each time. */
    private static final long CLIENT_PROCESS_CHECK_INTERVAL_NS = TimeUnit.MILLISECONDS.toNanos(250);

    enum State
    {
        AWAIT_REQUEST_STREAM, AWAIT_REPLY_STREAM, SEND_OPEN_REPLY, ACTIVE, DONE
    }

    private final long sessionId;
    private final String clientId;
    private final GpuDescriptor gpu;
    private final SessionBinding binding;
    private final Aeron aeron;
    private final String udpChannel;
    private final TransportSettings transportSettings;
    private final BackendSession backend;
    private final Reservation reservation;
    private final TrafficCounters counters;
    private final ServerErrorLog errorLog;
    private final long livenessTimeoutNs;
    private final Consumer<ClientSession> onClosed;
    private final SessionAdapter adapter;
    private final SessionReplyProxy replyProxy;
    private final Path clientProcessLock;

    private final IdleStrategy replyIdleStrategy = idleStrategy();
    private final IdleStrategy printfIdleStrategy = idleStrategy();
    private final Object printfLock = new Object();
    private final CallResult callResult = new CallResult();
    private final ParameterLayout parameterLayout = new ParameterLayout();
    private final UnsafeBuffer tensorMap =
        new UnsafeBuffer(ByteBuffer.allocateDirect(TensorMapArgumentsDecoder.tensorMapLength()));
    private final int[] occupancyGrid = new int[3];
    private final int[] occupancyBlock = new int[3];
    private final int[] occupancyCluster = new int[3];
    private final HostMemoryBudget.Account hostMemory;
    private final StagedModuleImages stagedImages;
    /** Bytes of each loaded module's image, held against the tenant's host memory until it is unloaded. */
    private final Long2LongHashMap loadedImageBytes = new Long2LongHashMap(0);
    private final ArrayDeque<BooleanSupplier> pendingReplies = new ArrayDeque<>();
    private final BackendSession.DeviceDataSink dataSink = this::onDeviceData;
    private final Consumer<String> printfSink = this::onDeviceOutput;
    /** Made at the session's first copy with another server: most sessions never make one. */
    private PeerReceiver peerReceiver;
    private PeerSender peerSender;

    private State state = State.AWAIT_REQUEST_STREAM;
    private long deadlineNs;
    private long pendingSinceNs;
    private long dtoHCorrelationId;
    private long nextClientProcessCheckNs;
    private boolean clientProcessLockSeen;
    private String endReason;
    private volatile boolean endToBeTold;
    private volatile String closeReason;
    /** Calls and bytes as they stood when the session ended; its counters are closed after. */
    private long endedCalls;
    private long endedBytes;
    private volatile boolean trafficEnded;

    /**
     * @param binding    what ties the session to its client.
     * @param requests   the session's request stream, hearing only the client's publication; the session closes it.
     * @param aeron      makes the reply publication once the client's path is known.
     * @param udpChannel the server's own UDP channel, where copies from other servers arrive.
     * @param transportSettings how this server publishes (MTU, term length), for copies to other servers.
     * @param backend    the tenant on its GPU, or null for a session that only holds its reservation (it takes no
     *                   calls); the session closes it.
     * @param reservation the reservation the session holds or is attached to.
     * @param counters   the session's counters; the session closes them.
     * @param hostMemory the tenant's share of the server's host memory; the session closes it.
     * @param clientProcessLock the lock file an IPC client holds for its life ({@link OwnerLock#ipcClientFile}),
     *                   or null over UDP.
     * @param onClosed   told once the session has freed everything, on the session's thread.
     */
    ClientSession(
        final long sessionId,
        final String clientId,
        final GpuDescriptor gpu,
        final SessionBinding binding,
        final Subscription requests,
        final Aeron aeron,
        final String udpChannel,
        final TransportSettings transportSettings,
        final BackendSession backend,
        final Reservation reservation,
        final TrafficCounters counters,
        final HostMemoryBudget.Account hostMemory,
        final ServerErrorLog errorLog,
        final long livenessTimeoutNs,
        final Path clientProcessLock,
        final Consumer<ClientSession> onClosed)
    {
        this.clientProcessLock = clientProcessLock;
        this.sessionId = sessionId;
        this.clientId = clientId;
        this.gpu = gpu;
        this.binding = binding;
        this.aeron = aeron;
        this.udpChannel = udpChannel;
        this.transportSettings = transportSettings;
        this.backend = backend;
        this.reservation = reservation;
        this.counters = counters;
        this.hostMemory = hostMemory;
        this.stagedImages = new StagedModuleImages(StagedModuleImages.MAX_IMAGE_BYTES_DEFAULT, hostMemory);
        this.errorLog = errorLog;
        this.livenessTimeoutNs = livenessTimeoutNs;
        this.onClosed = onClosed;
        this.adapter = new SessionAdapter(requests, this, counters, backend == null);
        this.replyProxy = new SessionReplyProxy(counters);
        // As long as a client waits for its open to be answered (10 s, ClientSettings.OPEN_TIMEOUT_NS_DEFAULT): on
        // a loaded host the client's driver may take seconds to connect, and a session given up then is a lost start.
        deadlineNs = System.nanoTime() + Math.max(livenessTimeoutNs * 2, MIN_REPLY_CONNECT_TIMEOUT_NS);
    }

    /**
     * @return how a session's thread waits for work, and for room to reply: it spins a little, then parks for
     * at most 200 µs, so an idle session costs next to nothing and a busy one answers at once.
     */
    static IdleStrategy idleStrategy()
    {
        return new BackoffIdleStrategy(100, 10, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MICROSECONDS.toNanos(200));
    }

    long sessionId()
    {
        return sessionId;
    }

    String clientId()
    {
        return clientId;
    }

    int gpuIndex()
    {
        return gpu.index();
    }

    long sliceBytes()
    {
        return reservation.budget().sliceBytes();
    }

    /**
     * @return what this session holds; its reservation's other sessions may hold more of the slice.
     */
    long allocatedBytes()
    {
        return backend == null ? 0 : backend.allocatedBytes();
    }

    Reservation reservation()
    {
        return reservation;
    }

    /**
     * @return true for the session that holds its reservation, false for one attached to it.
     */
    boolean isHolder()
    {
        return reservation.id() == sessionId;
    }

    public long calls()
    {
        return trafficEnded ? endedCalls : counters.calls();
    }

    public long bytes()
    {
        return trafficEnded ? endedBytes : counters.bytesIn() + counters.bytesOut();
    }

    /**
     * End the session at its next turn, as when the server stops.
     */
    void requestClose()
    {
        requestClose("the server is stopping");
    }

    /**
     * End the session at its next turn and tell its client why.
     *
     * @param reason what the client is told.
     */
    void requestClose(final String reason)
    {
        endToBeTold = true;
        closeFor(reason);
    }

    public String roleName()
    {
        return "bitfusion-session-" + sessionId;
    }

    /**
     * @throws AgentTerminationException once the session is done, for its runner to stop and close it.
     */
    public int doWork()
    {
        if (state == State.DONE)
        {
            throw new AgentTerminationException(endReason);
        }
        try
        {
            final long nowNs = System.nanoTime();
            return switch (state)
            {
                case AWAIT_REQUEST_STREAM -> awaitRequestStream(nowNs);
                case AWAIT_REPLY_STREAM -> awaitReplyStream(nowNs);
                case SEND_OPEN_REPLY -> sendOpenReply(nowNs);
                default -> serve(nowNs);
            };
        }
        catch (final Throwable ex)
        {
            fail(ex);
            return 1;
        }
    }

    public void onClose()
    {
        final long heldBytes = allocatedBytes();
        final long calls = counters.calls();
        endedCalls = calls;
        endedBytes = counters.bytesIn() + counters.bytesOut();
        trafficEnded = true;
        if (backend != null)
        {
            CloseHelper.quietClose(backend::close);
        }
        CloseHelper.quietCloseAll(adapter, replyProxy, counters);
        stagedImages.clear();
        loadedImageBytes.clear();
        hostMemory.close();
        state = State.DONE;
        // Said before the registry lets go, so whoever sees the session gone can read why.
        errorLog.info("session " + sessionId + " (" + clientId + ") ended: " +
            (endReason != null ? endReason : "stopped") + "; freed " + heldBytes + " bytes after " + calls + " calls");
        onClosed.accept(this);
    }

    boolean hasPendingReplies()
    {
        return !pendingReplies.isEmpty();
    }

    // ---------------------------------------------------------------- states

    private int awaitRequestStream(final long nowNs)
    {
        final Image image = adapter.image();
        if (image == null)
        {
            if (closeReason != null || nowNs > deadlineNs || isClientProcessGone(nowNs))
            {
                end("client never connected its request stream");
            }
            return 0;
        }
        final String refusal = binding.refusalOf(image);
        if (refusal != null)
        {
            errorLog.record("session " + sessionId + " (" + clientId + ") refused: " + refusal);
            end(refusal);
            return 1;
        }
        try
        {
            binding.exchangeKeys();
        }
        catch (final IllegalArgumentException ex)
        {
            errorLog.record("session " + sessionId + " (" + clientId + ") refused: " + ex.getMessage());
            end("its key exchange failed: " + ex.getMessage());
            return 1;
        }
        adapter.authenticateWith(binding.requestAuthenticator());
        replyProxy.connect(aeron.addExclusivePublication(binding.replyChannelFor(image), binding.replyStreamId()),
            binding.replyAuthenticator());
        state = State.AWAIT_REPLY_STREAM;
        deadlineNs = nowNs + Math.max(livenessTimeoutNs, MIN_REPLY_CONNECT_TIMEOUT_NS);
        return 1;
    }

    private int awaitReplyStream(final long nowNs)
    {
        if (replyProxy.isConnected())
        {
            state = State.SEND_OPEN_REPLY;
            deadlineNs = nowNs + livenessTimeoutNs;
            return 1;
        }
        if (closeReason != null || nowNs > deadlineNs || isClientProcessGone(nowNs))
        {
            end("client never connected its reply stream");
        }
        return 0;
    }

    private int sendOpenReply(final long nowNs)
    {
        // Only the holder learns the key: an attached session already showed it.
        if (replyProxy.sendOpenReply(binding.openCorrelationId(), sessionId, binding.requestStreamId(),
            sliceBytes(), gpu, reservation.id(), isHolder() ? reservation.key() : null, binding.serverPublicKey(),
            binding.serverProof()))
        {
            state = State.ACTIVE;
            return 1;
        }
        if (closeReason != null || replyProxy.isClosed() || nowNs > deadlineNs || isClientProcessGone(nowNs))
        {
            end("client went away before the session opened");
        }
        return 0;
    }

    private int serve(final long nowNs)
    {
        int work = sendPendingReplies(nowNs);
        if (pendingReplies.isEmpty())
        {
            work += adapter.poll();
        }
        final String reason = closeReason;
        if (reason != null)
        {
            if (endToBeTold)
            {
                endToBeTold = false;
                replyProxy.sendAsyncError(CUDA_ERROR_DEVICE_UNAVAILABLE, true, "the server ended the session: " + reason);
            }
            end(reason);
        }
        else if (!adapter.isConnected())
        {
            end("client disconnected");
        }

        // The driver already waited out the peer timeout without a status message from the client's driver, or the
        // IPC client's process lock is free.
        final boolean processGone = isClientProcessGone(nowNs);
        final boolean repliesGone = !replyProxy.isConnected();
        if (state != State.DONE && (processGone || repliesGone))
        {
            // A goodbye the client wrote just before its process ended is read first: it closed the session, it did
            // not vanish.
            if (pendingReplies.isEmpty())
            {
                work += adapter.poll();
            }
            end(closeReason != null ? closeReason :
                processGone ? "client process gone" : "client stopped receiving replies");
        }
        return work;
    }

    /**
     * Send the replies back pressure queued, waiting for room until they went or the session is closing (a client
     * that takes nothing for the liveness timeout closes it).
     */
    private void flushPendingReplies()
    {
        replyIdleStrategy.reset();
        while (!pendingReplies.isEmpty() && closeReason == null)
        {
            if (sendPendingReplies(System.nanoTime()) == 0)
            {
                replyIdleStrategy.idle();
            }
        }
    }

    private int sendPendingReplies(final long nowNs)
    {
        int sent = 0;
        while (!pendingReplies.isEmpty() && pendingReplies.peekFirst().getAsBoolean())
        {
            pendingReplies.pollFirst();
            sent++;
        }
        if (sent > 0)
        {
            pendingSinceNs = nowNs;
        }
        else if (!pendingReplies.isEmpty() && (replyProxy.isClosed() || nowNs - pendingSinceNs > livenessTimeoutNs))
        {
            closeFor("client stopped receiving replies");
        }
        return sent;
    }

    /**
     * The lock is taken before the session opens and let go when the process ends; a lock file that was there and
     * is gone was removed by whoever found it free first (another process's janitor, say). A client that holds
     * none (an older one, or one over UDP) is left to the driver's timeouts. Session thread only.
     *
     * @return true when the IPC client's process is gone; probed at most every 250 ms.
     */
    private boolean isClientProcessGone(final long nowNs)
    {
        if (clientProcessLock == null || nowNs - nextClientProcessCheckNs < 0)
        {
            return false;
        }
        nextClientProcessCheckNs = nowNs + CLIENT_PROCESS_CHECK_INTERVAL_NS;
        if (OwnerLock.isAbandoned(clientProcessLock))
        {
            return true;
        }
        if (Files.exists(clientProcessLock))
        {
            clientProcessLockSeen = true;
            return false;
        }
        return clientProcessLockSeen;
    }

    /**
     * A request fragment at {@code position} failed authentication: someone other than the client wrote into the
     * session's stream. The session ends, telling the client why; nothing of the fragment was executed.
     */
    void onForgedRequest(final long position)
    {
        errorLog.record("session " + sessionId + " (" + clientId + "): a request fragment at position " + position +
            " failed authentication; ending the session");
        if (closeReason == null)
        {
            replyProxy.sendAsyncError(CUDA_ERROR_DEVICE_UNAVAILABLE, true,
                "the server received a request on this session that this client did not send; the session is ended");
        }
        closeFor("a request failed authentication");
    }

    /**
     * A session that only holds its reservation has no device context: a call on it is a client's mistake, and the
     * session ends rather than pretend to have run it.
     */
    void onCallToHolder(final int templateId)
    {
        errorLog.record("session " + sessionId + " (" + clientId + ") only holds a reservation, but received a call " +
            "(template " + templateId + "); ending the session");
        requestClose("a session that only holds a reservation takes no calls");
    }

    private void end(final String reason)
    {
        if (state != State.DONE)
        {
            endReason = reason;
            state = State.DONE;
        }
    }

    private void closeFor(final String reason)
    {
        if (closeReason == null)
        {
            closeReason = reason;
        }
    }

    private void fail(final Throwable ex)
    {
        errorLog.record("session " + sessionId + " (" + clientId + ") failed: " + ex);
        try
        {
            // Tell the client why its session ends, so it reports the server's fault, not a lost network.
            replyProxy.sendAsyncError(CUDA_ERROR_UNKNOWN, true, "the server's session failed: " + ex);
        }
        catch (final RuntimeException ignore)
        {
            // The reply stream itself is broken: the client notices the closed session instead.
        }
        end("internal error");
    }

    // ---------------------------------------------------------------- requests, from the adapter

    void onMemAlloc(final long correlationId, final long bytes)
    {
        sendResult(correlationId, backend.memAlloc(bytes, callResult.reset()));
    }

    void onMemFree(final long deviceAddress)
    {
        checkAsync(backend.memFree(deviceAddress), "cuMemFree", deviceAddress);
    }

    void onMemGetInfo(final long correlationId)
    {
        callResult.reset();
        // The reservation's slice, shared with the job's other processes: what is free is free for any of them.
        callResult.value1 = reservation.budget().sliceBytes() - reservation.budget().heldBytes();
        callResult.value2 = reservation.budget().sliceBytes();
        sendResult(correlationId, CUDA_SUCCESS);
    }

    void onMemcpyHtoD(final long streamHandle, final long deviceAddress, final DirectBuffer data)
    {
        checkAsync(backend.copyHostToDevice(streamHandle, deviceAddress, data, 0, data.capacity()),
            "cuMemcpyHtoD", deviceAddress);
    }

    void onMemcpyDtoH(final long correlationId, final long streamHandle, final long deviceAddress, final long bytes)
    {
        dtoHCorrelationId = correlationId;
        final int status = backend.copyDeviceToHost(
            streamHandle, deviceAddress, bytes, replyProxy.maxDataChunkBytes(), dataSink, printfSink);
        callResult.reset();
        sendResult(correlationId, status);
    }

    void onMemcpyDtoD(final long streamHandle, final long dstDeviceAddress, final long srcDeviceAddress, final long bytes)
    {
        checkAsync(backend.copyDeviceToDevice(streamHandle, dstDeviceAddress, srcDeviceAddress, bytes),
            "cuMemcpyDtoD", dstDeviceAddress);
    }

    /**
     * The receiving half of a copy from a GPU of another server: answered by a Result once subscribed (unless it
     * fails before, then that Result is the only one), then by a Result once the bytes came; the session waits here
     * until then (bounded, see {@link PeerReceiver}), as a synchronous copy does, so its later calls see them.
     *
     * @param peerKey the copy's key as it travelled (masked with a token); unmasked here, in place.
     */
    void onPeerReceive(
        final long correlationId, final long streamHandle, final long dstDeviceAddress, final long bytes,
        final int peerStreamId, final boolean encrypt, final byte[] peerKey)
    {
        PeerKeys.mask(binding.requestAuthenticator(), correlationId, peerKey);
        if (peerReceiver == null)
        {
            peerReceiver = new PeerReceiver(aeron, udpChannel, livenessTimeoutNs);
        }
        int status = peerReceiver.subscribe(bytes, peerStreamId, callResult.reset());
        if (status == CUDA_SUCCESS)
        {
            // The first of two Results: subscribed, the client may ask the sender now. It must go out before the
            // session waits for the chunks, or the client would not ask and the wait would end in a timeout.
            sendResult(correlationId, CUDA_SUCCESS);
            flushPendingReplies();
            if (closeReason != null)
            {
                peerReceiver.abandon();
                return;
            }
            status = peerReceiver.receive(backend, streamHandle, dstDeviceAddress, bytes,
                PeerKeys.chunkAuthenticator(peerKey, encrypt), callResult.reset());
        }
        if (status == CUDA_SUCCESS)
        {
            errorLog.info("session " + sessionId + " (" + clientId + "): peer copy of " + bytes +
                " bytes received from another server on stream " + peerStreamId);
        }
        else
        {
            errorLog.record("session " + sessionId + " (" + clientId + "): " + callResult.message);
        }
        if (peerReceiver.droppedFragments() > 0)
        {
            errorLog.record("session " + sessionId + " (" + clientId + "): dropped " +
                peerReceiver.droppedFragments() + " fragments on peer stream " + peerStreamId +
                " that failed authentication");
        }
        sendResult(correlationId, status);
    }

    /**
     * The sending half of a copy to a GPU of another server, which the client told to receive it.
     *
     * @param peerKey the copy's key as it travelled (masked with a token); unmasked here, in place.
     */
    void onPeerSend(
        final long correlationId, final long streamHandle, final long srcDeviceAddress, final long bytes,
        final int peerStreamId, final boolean encrypt, final byte[] peerKey, final String peerEndpoint)
    {
        PeerKeys.mask(binding.requestAuthenticator(), correlationId, peerKey);
        if (peerSender == null)
        {
            peerSender = new PeerSender(aeron, transportSettings, livenessTimeoutNs);
        }
        final int status = peerSender.send(backend, streamHandle, srcDeviceAddress, bytes, peerStreamId, peerEndpoint,
            PeerKeys.chunkAuthenticator(peerKey, encrypt), printfSink, callResult.reset());
        if (status == CUDA_SUCCESS)
        {
            errorLog.info("session " + sessionId + " (" + clientId + "): peer copy of " + bytes + " bytes sent to " +
                peerEndpoint + " on stream " + peerStreamId);
        }
        else
        {
            errorLog.record("session " + sessionId + " (" + clientId + "): " + callResult.message);
        }
        sendResult(correlationId, status);
    }

    void onMemset(
        final long streamHandle, final long deviceAddress, final int value, final int elementSize,
        final long width, final long height, final long pitch)
    {
        checkAsync(backend.memset(streamHandle, deviceAddress, value, elementSize, width, height, pitch),
            "cuMemset", deviceAddress);
    }

    void onContextCreate(final long contextHandle, final int flags)
    {
        checkAsync(backend.contextCreate(contextHandle, flags), "cuCtxCreate", contextHandle);
    }

    void onContextDestroy(final long contextHandle)
    {
        checkAsync(backend.contextDestroy(contextHandle), "cuCtxDestroy", contextHandle);
    }

    void onSynchronize(final long correlationId, final SyncKind kind, final long handle)
    {
        final int status = backend.synchronize(kind, handle, printfSink);
        callResult.reset();
        sendResult(correlationId, status);
    }

    void onStreamCreate(final long streamHandle, final long contextHandle, final int flags, final int priority)
    {
        checkAsync(backend.streamCreate(streamHandle, contextHandle, flags, priority), "cuStreamCreate", streamHandle);
    }

    void onStreamDestroy(final long streamHandle)
    {
        checkAsync(backend.streamDestroy(streamHandle), "cuStreamDestroy", streamHandle);
    }

    void onStreamWaitEvent(final long streamHandle, final long eventHandle)
    {
        checkAsync(backend.streamWaitEvent(streamHandle, eventHandle), "cuStreamWaitEvent", streamHandle);
    }

    void onEventCreate(final long eventHandle, final long contextHandle, final int flags)
    {
        checkAsync(backend.eventCreate(eventHandle, contextHandle, flags), "cuEventCreate", eventHandle);
    }

    void onEventRecord(final long eventHandle, final long streamHandle)
    {
        checkAsync(backend.eventRecord(eventHandle, streamHandle), "cuEventRecord", eventHandle);
    }

    void onEventDestroy(final long eventHandle)
    {
        checkAsync(backend.eventDestroy(eventHandle), "cuEventDestroy", eventHandle);
    }

    void onEventElapsedTime(final long correlationId, final long startEventHandle, final long endEventHandle)
    {
        sendResult(correlationId, backend.eventElapsedTime(startEventHandle, endEventHandle, callResult.reset()));
    }

    void onModuleImageChunk(final long moduleHandle, final long byteOffset, final long totalBytes, final DirectBuffer data)
    {
        final int status = stagedImages.stage(moduleHandle, byteOffset, totalBytes, data, callResult.reset());
        if (status != CUDA_SUCCESS)
        {
            reportAsyncError(status, false, callResult.message);
        }
    }

    void onModuleLoad(final long correlationId, final long moduleHandle, final long contextHandle)
    {
        final byte[] image = stagedImages.take(moduleHandle);
        callResult.reset();
        if (image == null)
        {
            callResult.message = "module image incomplete or missing";
            sendResult(correlationId, CUDA_ERROR_INVALID_VALUE);
            return;
        }
        final int status = backend.moduleLoad(moduleHandle, contextHandle, image, callResult);
        if (status == CUDA_SUCCESS)
        {
            // The backend keeps what it made of the image (parsed, or the driver's copy) until the unload.
            hostMemory.release(loadedImageBytes.remove(moduleHandle));
            loadedImageBytes.put(moduleHandle, image.length);
        }
        else
        {
            hostMemory.release(image.length);
        }
        sendResult(correlationId, status);
    }

    void onModuleUnload(final long moduleHandle)
    {
        stagedImages.discard(moduleHandle);
        final int status = backend.moduleUnload(moduleHandle);
        if (status == CUDA_SUCCESS)
        {
            hostMemory.release(loadedImageBytes.remove(moduleHandle));
        }
        checkAsync(status, "cuModuleUnload", moduleHandle);
    }

    void onModuleGetFunction(
        final long correlationId, final long moduleHandle, final long functionHandle, final String name)
    {
        final int status = backend.moduleGetFunction(moduleHandle, functionHandle, name, parameterLayout);
        if (!pendingReplies.isEmpty() || !replyProxy.sendFunctionInfo(correlationId, status, parameterLayout))
        {
            final ParameterLayout layout = parameterLayout.copy();
            queue(() -> replyProxy.sendFunctionInfo(correlationId, status, layout));
        }
    }

    void onModuleGetGlobal(final long correlationId, final long moduleHandle, final String name)
    {
        sendResult(correlationId, backend.moduleGetGlobal(moduleHandle, name, callResult.reset()));
    }

    void onFunctionGetAttribute(final long correlationId, final long functionHandle, final int attribute)
    {
        sendResult(correlationId, backend.functionGetAttribute(functionHandle, attribute, callResult.reset()));
    }

    void onFunctionSetAttribute(final long correlationId, final long functionHandle, final int attribute, final int value)
    {
        final int status = backend.functionSetAttribute(functionHandle, attribute, value);
        callResult.reset();
        sendResult(correlationId, status);
    }

    void onContextLimit(final long correlationId, final int limit, final boolean set, final long value)
    {
        sendResult(correlationId, backend.contextLimit(limit, set, value, callResult.reset()));
    }

    /**
     * The map goes back as a DataChunk of the call, before its Result.
     */
    void onTensorMapEncode(final long correlationId, final TensorMapArgumentsDecoder arguments)
    {
        final int status = backend.tensorMapEncode(arguments, tensorMap, callResult.reset());
        if (status == CUDA_SUCCESS)
        {
            dtoHCorrelationId = correlationId;
            onDeviceData(0, tensorMap.addressOffset(), tensorMap.capacity());
        }
        sendResult(correlationId, status);
    }

    void onClusterOccupancy(
        final long correlationId, final long functionHandle, final int query,
        final int gridX, final int gridY, final int gridZ, final int blockX, final int blockY, final int blockZ,
        final int sharedMemBytes, final int clusterX, final int clusterY, final int clusterZ)
    {
        occupancyGrid[0] = gridX;
        occupancyGrid[1] = gridY;
        occupancyGrid[2] = gridZ;
        occupancyBlock[0] = blockX;
        occupancyBlock[1] = blockY;
        occupancyBlock[2] = blockZ;
        occupancyCluster[0] = clusterX;
        occupancyCluster[1] = clusterY;
        occupancyCluster[2] = clusterZ;
        sendResult(correlationId, backend.clusterOccupancy(functionHandle, query, occupancyGrid, occupancyBlock,
            sharedMemBytes, occupancyCluster, callResult.reset()));
    }

    void onLaunchKernel(
        final long functionHandle, final long streamHandle,
        final int gridX, final int gridY, final int gridZ, final int blockX, final int blockY, final int blockZ,
        final int sharedMemBytes, final int clusterX, final int clusterY, final int clusterZ,
        final DirectBuffer parameters)
    {
        final int status = backend.launchKernel(functionHandle, streamHandle, gridX, gridY, gridZ,
            blockX, blockY, blockZ, sharedMemBytes, clusterX, clusterY, clusterZ,
            parameters, 0, parameters.capacity(), printfSink);
        if (status != CUDA_SUCCESS)
        {
            final boolean sticky = status == CUDA_ERROR_ILLEGAL_ADDRESS || status == CUDA_ERROR_LAUNCH_FAILED;
            reportAsyncError(status, sticky, "kernel launch failed: " + CuResult.describe(status));
        }
    }

    void onSessionClose(final long closedSessionId)
    {
        if (closedSessionId == sessionId)
        {
            closeFor("closed by client");
        }
        else
        {
            reportAsyncError(CUDA_ERROR_INVALID_VALUE, false,
                "SessionClose names session " + closedSessionId + ", not this one");
        }
    }

    /**
     * A request that could not be decoded, or of a kind this server does not know: answered with a Result when
     * its correlation id could be read, so a caller waiting for it gets the error now (the client takes a Result
     * for any call), else with an asynchronous error.
     */
    void onMalformedRequest(
        final int status, final boolean hasCorrelationId, final long correlationId, final String message)
    {
        if (hasCorrelationId)
        {
            callResult.reset();
            callResult.message = message;
            sendResult(correlationId, status);
        }
        else
        {
            reportAsyncError(status, false, message);
        }
    }

    // ---------------------------------------------------------------- replies

    private void sendResult(final long correlationId, final int status)
    {
        final long value1 = callResult.value1;
        final long value2 = callResult.value2;
        final String message = callResult.message;
        if (!pendingReplies.isEmpty() || !replyProxy.sendResult(correlationId, status, value1, value2, message))
        {
            queue(() -> replyProxy.sendResult(correlationId, status, value1, value2, message));
        }
    }

    private void checkAsync(final int status, final String call, final long handleOrAddress)
    {
        if (status != CUDA_SUCCESS)
        {
            reportAsyncError(status, false,
                call + " (0x" + Long.toHexString(handleOrAddress) + ") failed: " + CuResult.describe(status));
        }
    }

    private void reportAsyncError(final int status, final boolean sticky, final String message)
    {
        if (!pendingReplies.isEmpty() || !replyProxy.sendAsyncError(status, sticky, message))
        {
            queue(() -> replyProxy.sendAsyncError(status, sticky, message));
        }
    }

    /**
     * Only on back pressure: the reply's values are captured then, and sent before the next request is taken.
     */
    private void queue(final BooleanSupplier reply)
    {
        if (pendingReplies.isEmpty())
        {
            pendingSinceNs = System.nanoTime();
        }
        pendingReplies.addLast(reply);
    }

    /**
     * Device-to-host data, valid only during this call: retried until it goes or the client is given up.
     *
     * @return false to make the backend abandon the copy.
     */
    private boolean onDeviceData(final long offset, final long hostMemory, final int length)
    {
        if (replyProxy.sendDataChunk(dtoHCorrelationId, offset, hostMemory, length))
        {
            return true;
        }
        final long refusedAtNs = System.nanoTime();
        do
        {
            if (isClientProcessGone(System.nanoTime()))
            {
                closeFor("client process gone");
                return false;
            }
            if (!mayRetryReply(refusedAtNs, replyIdleStrategy))
            {
                return false;
            }
        }
        while (!replyProxy.sendDataChunk(dtoHCorrelationId, offset, hostMemory, length));
        replyIdleStrategy.reset();
        return true;
    }

    /**
     * Device printf; the emulated GPU prints from the threads of a launch, which take turns here.
     */
    private void onDeviceOutput(final String text)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        synchronized (printfLock)
        {
            final int maxText = replyProxy.maxDeviceOutputBytes();
            for (int start = 0; start < bytes.length; start += maxText)
            {
                final int length = Math.min(maxText, bytes.length - start);
                final long refusedAtNs = System.nanoTime();
                while (!replyProxy.sendDeviceOutput(bytes, start, length))
                {
                    if (!mayRetryReply(refusedAtNs, printfIdleStrategy))
                    {
                        return;
                    }
                }
                printfIdleStrategy.reset();
            }
        }
    }

    /**
     * @return false, and the session set to close, when a refused reply cannot go out: the publication closed or
     * lost its client (no status from it for the peer timeout), the session is closing, or the client took nothing
     * for the liveness timeout.
     */
    private boolean mayRetryReply(final long refusedAtNs, final IdleStrategy idleStrategy)
    {
        if (replyProxy.isClosed() || !replyProxy.isConnected() || closeReason != null ||
            System.nanoTime() - refusedAtNs > livenessTimeoutNs)
        {
            closeFor("client stopped receiving replies");
            return false;
        }
        idleStrategy.idle();
        return true;
    }
}
