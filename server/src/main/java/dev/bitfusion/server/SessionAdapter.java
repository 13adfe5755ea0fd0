package dev.bitfusion.server;

import dev.bitfusion.server.status.TrafficCounters;
import dev.bitfusion.transport.protocol.*;
import dev.bitfusion.transport.auth.FragmentAuthenticator;
import io.aeron.ControlledFragmentAssembler;
import io.aeron.Image;
import io.aeron.Subscription;
import io.aeron.logbuffer.ControlledFragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_INVALID_VALUE;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_NOT_SUPPORTED;

/**
 * Receives one session's request stream: checks each message's header, schema and lengths, wraps its decoder
 * and hands the decoded fields to the {@link ClientSession}. Nothing else: what a call means is the session's.
 * <p>
 * Every length and count a message carries is checked ({@link MessageBounds}, generated from the schema) before
 * a decoder reads it, so a malformed message is never read past its end: it is answered with an error, a
 * Result for its correlation id when it has one that can be read (so the caller is not left to time out), else
 * an asynchronous error. A message the session answered with a reply it could not send yet ends the poll, so the session
 * sends that reply before it takes the next request and the client's replies stay in order.
 * <p>
 * Thread safety: the session's thread only.
 */
final class SessionAdapter implements ControlledFragmentHandler, AutoCloseable
{
    /** Requests taken per poll: a bound on how long the session goes without checking on its client. */
    static final int FRAGMENT_LIMIT = 64;

    private final Subscription requests;
    private final ClientSession session;
    private final TrafficCounters counters;
    private final ControlledFragmentAssembler assembler = new ControlledFragmentAssembler(this);
    private final ControlledFragmentHandler authenticatedAssembler = this::onAuthenticatedFragment;
    private final boolean holdOnly;
    private FragmentAuthenticator authenticator;
    /** Where an encrypted fragment is decrypted to: the image's log buffer is the client's, never written here. */
    private UnsafeBuffer plaintext;
    private final MessageBounds bounds = new MessageBounds();
    private final UnsafeBuffer varData = new UnsafeBuffer(0, 0);

    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final MemAllocDecoder memAlloc = new MemAllocDecoder();
    private final MemFreeDecoder memFree = new MemFreeDecoder();
    private final MemGetInfoDecoder memGetInfo = new MemGetInfoDecoder();
    private final MemcpyHtoDChunkDecoder htoD = new MemcpyHtoDChunkDecoder();
    private final MemcpyDtoHDecoder dtoH = new MemcpyDtoHDecoder();
    private final MemcpyDtoDDecoder dtoD = new MemcpyDtoDDecoder();
    private final MemsetDecoder memset = new MemsetDecoder();
    private final ContextCreateDecoder contextCreate = new ContextCreateDecoder();
    private final ContextDestroyDecoder contextDestroy = new ContextDestroyDecoder();
    private final SynchronizeDecoder synchronize = new SynchronizeDecoder();
    private final StreamCreateDecoder streamCreate = new StreamCreateDecoder();
    private final StreamDestroyDecoder streamDestroy = new StreamDestroyDecoder();
    private final StreamWaitEventDecoder streamWaitEvent = new StreamWaitEventDecoder();
    private final EventCreateDecoder eventCreate = new EventCreateDecoder();
    private final EventRecordDecoder eventRecord = new EventRecordDecoder();
    private final EventDestroyDecoder eventDestroy = new EventDestroyDecoder();
    private final EventElapsedTimeDecoder elapsedTime = new EventElapsedTimeDecoder();
    private final ModuleImageChunkDecoder imageChunk = new ModuleImageChunkDecoder();
    private final ModuleLoadDecoder moduleLoad = new ModuleLoadDecoder();
    private final ModuleUnloadDecoder moduleUnload = new ModuleUnloadDecoder();
    private final ModuleGetFunctionDecoder getFunction = new ModuleGetFunctionDecoder();
    private final ModuleGetGlobalDecoder getGlobal = new ModuleGetGlobalDecoder();
    private final FunctionGetAttributeDecoder getAttribute = new FunctionGetAttributeDecoder();
    private final FunctionSetAttributeDecoder setAttribute = new FunctionSetAttributeDecoder();
    private final ContextLimitDecoder contextLimit = new ContextLimitDecoder();
    private final TensorMapEncodeDecoder tensorMap = new TensorMapEncodeDecoder();
    private final ClusterOccupancyDecoder clusterOccupancy = new ClusterOccupancyDecoder();
    private final LaunchKernelDecoder launch = new LaunchKernelDecoder();
    private final SessionCloseDecoder sessionClose = new SessionCloseDecoder();
    private final PeerReceiveDecoder peerReceive = new PeerReceiveDecoder();
    private final PeerSendDecoder peerSend = new PeerSendDecoder();
    private final byte[] peerKey = new byte[PeerReceiveDecoder.peerKeyLength()];

    /**
     * @param requests the session's request stream; closed with this adapter.
     * @param session  where decoded requests go.
     * @param counters the session's counters: each request is counted as it arrives.
     */
    /**
     * @param holdOnly true for a session that only holds its reservation: it may close itself, and any call ends it.
     */
    SessionAdapter(
        final Subscription requests, final ClientSession session, final TrafficCounters counters, final boolean holdOnly)
    {
        this.requests = requests;
        this.session = session;
        this.counters = counters;
        this.holdOnly = holdOnly;
    }

    /**
     * @return the fragments taken.
     */
    int poll()
    {
        return requests.controlledPoll(authenticator == null ? assembler : authenticatedAssembler, FRAGMENT_LIMIT);
    }

    /**
     * @param authenticator what every fragment must satisfy from now on, or null when requests are not authenticated.
     */
    void authenticateWith(final FragmentAuthenticator authenticator)
    {
        this.authenticator = authenticator;
        if (authenticator != null && authenticator.encrypts())
        {
            plaintext = new UnsafeBuffer(new byte[FragmentAuthenticator.MAX_FRAGMENT_PAYLOAD]);
        }
    }

    /**
     * @return whether the client's publication is connected to the request stream.
     */
    boolean isConnected()
    {
        return requests.imageCount() > 0;
    }

    /**
     * @return the image of the client's publication, or null until it connects; the subscription accepts one
     * Aeron session only, so there is at most one.
     */
    Image image()
    {
        return requests.imageCount() > 0 ? requests.imageAtIndex(0) : null;
    }

    /**
     * A fragment that fails its tag was not sent by the session's client: the stream can no longer be trusted
     * (a forged fragment takes the place of the client's at that position), so the session ends. The tag covers
     * what travelled, so an encrypted fragment is decrypted only once it is known to be the client's.
     */
    private Action onAuthenticatedFragment(
        final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        if (!authenticator.verify(buffer, offset, length, header))
        {
            session.onForgedRequest(header.position());
            return Action.BREAK;
        }
        if (plaintext != null)
        {
            authenticator.decrypt(buffer, offset, length, header, plaintext, 0);
            return assembler.onFragment(plaintext, 0, length, header);
        }
        return assembler.onFragment(buffer, offset, length, header);
    }

    public void close()
    {
        requests.close();
    }

    public Action onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        counters.onRequest(length);
        final int status = bounds.check(buffer, offset, length);
        if (status != MessageBounds.VALID)
        {
            session.onMalformedRequest(
                status == MessageBounds.UNKNOWN_TEMPLATE ? CUDA_ERROR_NOT_SUPPORTED : CUDA_ERROR_INVALID_VALUE,
                bounds.hasCorrelationId(), bounds.correlationId(), bounds.reason());
            return nextAction();
        }
        headerDecoder.wrap(buffer, offset);
        final int templateId = headerDecoder.templateId();
        try
        {
            dispatch(templateId, buffer, offset + MessageHeaderDecoder.ENCODED_LENGTH);
        }
        catch (final IndexOutOfBoundsException | IllegalStateException | IllegalArgumentException ex)
        {
            // A field the codec refuses to read (an enum value it does not know): the lengths were all checked.
            session.onMalformedRequest(CUDA_ERROR_INVALID_VALUE, bounds.hasCorrelationId(), bounds.correlationId(),
                "malformed message (template " + templateId + "): " + ex.getMessage());
        }
        return nextAction();
    }

    private Action nextAction()
    {
        return session.hasPendingReplies() ? Action.BREAK : Action.CONTINUE;
    }

    private void dispatch(final int templateId, final DirectBuffer buffer, final int offset)
    {
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        if (holdOnly && templateId != SessionCloseDecoder.TEMPLATE_ID)
        {
            session.onCallToHolder(templateId);
            return;
        }
        switch (templateId)
        {
            case MemAllocDecoder.TEMPLATE_ID ->
            {
                memAlloc.wrap(buffer, offset, blockLength, version);
                session.onMemAlloc(memAlloc.correlationId(), memAlloc.bytes());
            }
            case MemFreeDecoder.TEMPLATE_ID ->
                session.onMemFree(memFree.wrap(buffer, offset, blockLength, version).deviceAddress());
            case MemGetInfoDecoder.TEMPLATE_ID ->
                session.onMemGetInfo(memGetInfo.wrap(buffer, offset, blockLength, version).correlationId());
            case MemcpyHtoDChunkDecoder.TEMPLATE_ID ->
            {
                htoD.wrap(buffer, offset, blockLength, version);
                htoD.wrapData(varData);
                session.onMemcpyHtoD(htoD.streamHandle(), htoD.deviceAddress(), varData);
            }
            case MemcpyDtoHDecoder.TEMPLATE_ID ->
            {
                dtoH.wrap(buffer, offset, blockLength, version);
                session.onMemcpyDtoH(dtoH.correlationId(), dtoH.streamHandle(), dtoH.deviceAddress(), dtoH.bytes());
            }
            case MemcpyDtoDDecoder.TEMPLATE_ID ->
            {
                dtoD.wrap(buffer, offset, blockLength, version);
                session.onMemcpyDtoD(dtoD.streamHandle(), dtoD.dstDeviceAddress(), dtoD.srcDeviceAddress(), dtoD.bytes());
            }
            case MemsetDecoder.TEMPLATE_ID ->
            {
                memset.wrap(buffer, offset, blockLength, version);
                session.onMemset(memset.streamHandle(), memset.deviceAddress(), memset.value(), memset.elementSize(),
                    memset.width(), memset.height(), memset.pitch());
            }
            case ContextCreateDecoder.TEMPLATE_ID ->
            {
                contextCreate.wrap(buffer, offset, blockLength, version);
                session.onContextCreate(contextCreate.contextHandle(), contextCreate.flags());
            }
            case ContextDestroyDecoder.TEMPLATE_ID ->
                session.onContextDestroy(contextDestroy.wrap(buffer, offset, blockLength, version).contextHandle());
            case SynchronizeDecoder.TEMPLATE_ID ->
            {
                synchronize.wrap(buffer, offset, blockLength, version);
                session.onSynchronize(synchronize.correlationId(), syncKind(synchronize.kindRaw()), synchronize.handle());
            }
            case StreamCreateDecoder.TEMPLATE_ID ->
            {
                streamCreate.wrap(buffer, offset, blockLength, version);
                session.onStreamCreate(streamCreate.streamHandle(), streamCreate.contextHandle(), streamCreate.flags(),
                    streamCreate.priority());
            }
            case StreamDestroyDecoder.TEMPLATE_ID ->
                session.onStreamDestroy(streamDestroy.wrap(buffer, offset, blockLength, version).streamHandle());
            case StreamWaitEventDecoder.TEMPLATE_ID ->
            {
                streamWaitEvent.wrap(buffer, offset, blockLength, version);
                session.onStreamWaitEvent(streamWaitEvent.streamHandle(), streamWaitEvent.eventHandle());
            }
            case EventCreateDecoder.TEMPLATE_ID ->
            {
                eventCreate.wrap(buffer, offset, blockLength, version);
                session.onEventCreate(eventCreate.eventHandle(), eventCreate.contextHandle(), eventCreate.flags());
            }
            case EventRecordDecoder.TEMPLATE_ID ->
            {
                eventRecord.wrap(buffer, offset, blockLength, version);
                session.onEventRecord(eventRecord.eventHandle(), eventRecord.streamHandle());
            }
            case EventDestroyDecoder.TEMPLATE_ID ->
                session.onEventDestroy(eventDestroy.wrap(buffer, offset, blockLength, version).eventHandle());
            case EventElapsedTimeDecoder.TEMPLATE_ID ->
            {
                elapsedTime.wrap(buffer, offset, blockLength, version);
                session.onEventElapsedTime(
                    elapsedTime.correlationId(), elapsedTime.startEventHandle(), elapsedTime.endEventHandle());
            }
            case ModuleImageChunkDecoder.TEMPLATE_ID ->
            {
                imageChunk.wrap(buffer, offset, blockLength, version);
                imageChunk.wrapData(varData);
                session.onModuleImageChunk(
                    imageChunk.moduleHandle(), imageChunk.byteOffset(), imageChunk.totalBytes(), varData);
            }
            case ModuleLoadDecoder.TEMPLATE_ID ->
            {
                moduleLoad.wrap(buffer, offset, blockLength, version);
                session.onModuleLoad(moduleLoad.correlationId(), moduleLoad.moduleHandle(), moduleLoad.contextHandle());
            }
            case ModuleUnloadDecoder.TEMPLATE_ID ->
                session.onModuleUnload(moduleUnload.wrap(buffer, offset, blockLength, version).moduleHandle());
            case ModuleGetFunctionDecoder.TEMPLATE_ID ->
            {
                getFunction.wrap(buffer, offset, blockLength, version);
                session.onModuleGetFunction(getFunction.correlationId(), getFunction.moduleHandle(),
                    getFunction.functionHandle(), getFunction.name());
            }
            case ModuleGetGlobalDecoder.TEMPLATE_ID ->
            {
                getGlobal.wrap(buffer, offset, blockLength, version);
                session.onModuleGetGlobal(getGlobal.correlationId(), getGlobal.moduleHandle(), getGlobal.name());
            }
            case FunctionGetAttributeDecoder.TEMPLATE_ID ->
            {
                getAttribute.wrap(buffer, offset, blockLength, version);
                session.onFunctionGetAttribute(
                    getAttribute.correlationId(), getAttribute.functionHandle(), getAttribute.attribute());
            }
            case FunctionSetAttributeDecoder.TEMPLATE_ID ->
            {
                setAttribute.wrap(buffer, offset, blockLength, version);
                session.onFunctionSetAttribute(setAttribute.correlationId(), setAttribute.functionHandle(),
                    setAttribute.attribute(), setAttribute.value());
            }
            case ContextLimitDecoder.TEMPLATE_ID ->
            {
                contextLimit.wrap(buffer, offset, blockLength, version);
                session.onContextLimit(contextLimit.correlationId(), contextLimit.cuLimit(), contextLimit.set() != 0,
                    contextLimit.value());
            }
            case TensorMapEncodeDecoder.TEMPLATE_ID ->
            {
                tensorMap.wrap(buffer, offset, blockLength, version);
                session.onTensorMapEncode(tensorMap.correlationId(), tensorMap.arguments());
            }
            case ClusterOccupancyDecoder.TEMPLATE_ID ->
            {
                final ClusterOccupancyDecoder query = clusterOccupancy.wrap(buffer, offset, blockLength, version);
                session.onClusterOccupancy(query.correlationId(), query.functionHandle(), query.query(),
                    query.gridX(), query.gridY(), query.gridZ(), query.blockX(), query.blockY(), query.blockZ(),
                    query.sharedMemBytes(), query.clusterX(), query.clusterY(), query.clusterZ());
            }
            case LaunchKernelDecoder.TEMPLATE_ID ->
            {
                launch.wrap(buffer, offset, blockLength, version);
                launch.wrapParameters(varData);
                session.onLaunchKernel(launch.functionHandle(), launch.streamHandle(),
                    launch.gridX(), launch.gridY(), launch.gridZ(), launch.blockX(), launch.blockY(), launch.blockZ(),
                    launch.sharedMemBytes(), launch.clusterX(), launch.clusterY(), launch.clusterZ(), varData);
            }
            case PeerReceiveDecoder.TEMPLATE_ID ->
            {
                peerReceive.wrap(buffer, offset, blockLength, version);
                peerReceive.getPeerKey(peerKey, 0, peerKey.length);
                session.onPeerReceive(peerReceive.correlationId(), peerReceive.streamHandle(),
                    peerReceive.dstDeviceAddress(), peerReceive.bytes(), peerReceive.peerStreamId(),
                    peerReceive.encrypt() != 0, peerKey);
            }
            case PeerSendDecoder.TEMPLATE_ID ->
            {
                peerSend.wrap(buffer, offset, blockLength, version);
                peerSend.getPeerKey(peerKey, 0, peerKey.length);
                session.onPeerSend(peerSend.correlationId(), peerSend.streamHandle(), peerSend.srcDeviceAddress(),
                    peerSend.bytes(), peerSend.peerStreamId(), peerSend.encrypt() != 0, peerKey, peerSend.peerEndpoint());
            }
            case SessionCloseDecoder.TEMPLATE_ID ->
                session.onSessionClose(sessionClose.wrap(buffer, offset, blockLength, version).sessionId());
            default -> session.onMalformedRequest(CUDA_ERROR_NOT_SUPPORTED, bounds.hasCorrelationId(),
                bounds.correlationId(), "unknown opcode (template id " + templateId + "): not a session request");
        }
    }

    /**
     * @return the kind, or {@link SyncKind#NULL_VAL} for one this server does not know: the session answers
     * that with CUDA_ERROR_INVALID_VALUE, where the codec would throw and leave the client without an answer.
     */
    private static SyncKind syncKind(final int kind)
    {
        try
        {
            return SyncKind.get(kind);
        }
        catch (final IllegalArgumentException ex)
        {
            return SyncKind.NULL_VAL;
        }
    }
}
