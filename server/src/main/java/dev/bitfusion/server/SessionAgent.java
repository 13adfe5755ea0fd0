package dev.bitfusion.server;

import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.server.backend.GpuDescriptor;
import dev.bitfusion.server.backend.ParameterLayout;
import dev.bitfusion.transport.CuResult;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.protocol.*;
import io.aeron.FragmentAssembler;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.BufferClaim;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static dev.bitfusion.transport.CuResult.*;

/**
 * One client session: receives its driver calls on its own request stream, executes them in order on
 * its own thread against the backend, and answers on the client's reply stream. A blocking call (a long
 * kernel, a big copy) holds up this session only.
 * <p>
 * The session ends when the client closes it, when the client's publication disappears (process died or
 * network gone: Aeron notices within the liveness timeout), or when the server stops; in every case the
 * backend frees all the session held and the slice returns to the pool.
 * <p>
 * Thread safety: {@link #run()} runs on the session's own thread; {@link #requestClose()} and the
 * accessors may be called from any thread.
 */
final class SessionAgent implements Runnable, FragmentHandler
{
    /** Largest module image a client may stage; larger ones are refused before any memory is taken. */
    static final long MAX_MODULE_IMAGE_BYTES = 1L << 30;

    /** Most bytes of module images one session may have staged and not yet loaded, so no client can
     * exhaust the server's heap by announcing images it never completes. */
    static final long MAX_STAGED_BYTES = 1L << 30;

    private static final int STICKY = 1;

    private static final class StagedImage
    {
        final byte[] bytes;
        long receivedBytes;

        StagedImage(final int length)
        {
            bytes = new byte[length];
        }
    }

    private final long sessionId;
    private final String clientId;
    private final GpuDescriptor gpu;
    private final int requestStreamId;
    private final long openCorrelationId;
    private final Subscription requests;
    private final Publication replies;
    private final BackendSession backend;
    private final ServerErrorLog errorLog;
    private final long livenessTimeoutNs;
    private final Runnable onClosed;
    private final FragmentAssembler assembler = new FragmentAssembler(this);
    private final IdleStrategy idleStrategy = new BackoffIdleStrategy(
        100, 10, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MICROSECONDS.toNanos(200));

    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final MemAllocDecoder memAllocDecoder = new MemAllocDecoder();
    private final MemFreeDecoder memFreeDecoder = new MemFreeDecoder();
    private final MemGetInfoDecoder memGetInfoDecoder = new MemGetInfoDecoder();
    private final MemcpyHtoDChunkDecoder htoDDecoder = new MemcpyHtoDChunkDecoder();
    private final MemcpyDtoHDecoder dtoHDecoder = new MemcpyDtoHDecoder();
    private final MemcpyDtoDDecoder dtoDDecoder = new MemcpyDtoDDecoder();
    private final MemsetDecoder memsetDecoder = new MemsetDecoder();
    private final ContextCreateDecoder contextCreateDecoder = new ContextCreateDecoder();
    private final ContextDestroyDecoder contextDestroyDecoder = new ContextDestroyDecoder();
    private final SynchronizeDecoder synchronizeDecoder = new SynchronizeDecoder();
    private final StreamCreateDecoder streamCreateDecoder = new StreamCreateDecoder();
    private final StreamDestroyDecoder streamDestroyDecoder = new StreamDestroyDecoder();
    private final StreamWaitEventDecoder streamWaitEventDecoder = new StreamWaitEventDecoder();
    private final EventCreateDecoder eventCreateDecoder = new EventCreateDecoder();
    private final EventRecordDecoder eventRecordDecoder = new EventRecordDecoder();
    private final EventDestroyDecoder eventDestroyDecoder = new EventDestroyDecoder();
    private final EventElapsedTimeDecoder elapsedTimeDecoder = new EventElapsedTimeDecoder();
    private final ModuleImageChunkDecoder imageChunkDecoder = new ModuleImageChunkDecoder();
    private final ModuleLoadDecoder moduleLoadDecoder = new ModuleLoadDecoder();
    private final ModuleUnloadDecoder moduleUnloadDecoder = new ModuleUnloadDecoder();
    private final ModuleGetFunctionDecoder getFunctionDecoder = new ModuleGetFunctionDecoder();
    private final ModuleGetGlobalDecoder getGlobalDecoder = new ModuleGetGlobalDecoder();
    private final FunctionGetAttributeDecoder getAttributeDecoder = new FunctionGetAttributeDecoder();
    private final LaunchKernelDecoder launchDecoder = new LaunchKernelDecoder();
    private final FunctionSetAttributeDecoder setAttributeDecoder = new FunctionSetAttributeDecoder();
    private final ContextLimitDecoder contextLimitDecoder = new ContextLimitDecoder();
    private final TensorMapEncodeDecoder tensorMapDecoder = new TensorMapEncodeDecoder();
    private final ClusterOccupancyDecoder clusterOccupancyDecoder = new ClusterOccupancyDecoder();
    private final int[] occupancyGrid = new int[3];
    private final int[] occupancyBlock = new int[3];
    private final int[] occupancyCluster = new int[3];
    private final UnsafeBuffer tensorMap =
        new UnsafeBuffer(ByteBuffer.allocateDirect(TensorMapArgumentsDecoder.tensorMapLength()));
    private final SessionCloseDecoder sessionCloseDecoder = new SessionCloseDecoder();

    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final ResultEncoder resultEncoder = new ResultEncoder();
    private final DataChunkEncoder dataChunkEncoder = new DataChunkEncoder();
    private final FunctionInfoEncoder functionInfoEncoder = new FunctionInfoEncoder();
    private final AsyncErrorEncoder asyncErrorEncoder = new AsyncErrorEncoder();
    private final DeviceOutputEncoder deviceOutputEncoder = new DeviceOutputEncoder();
    private final SessionOpenReplyEncoder openReplyEncoder = new SessionOpenReplyEncoder();

    private final UnsafeBuffer replyBuffer = new UnsafeBuffer(new byte[64 * 1024]);
    private final UnsafeBuffer printfBuffer = new UnsafeBuffer(new byte[64 * 1024]);
    private final UnsafeBuffer deviceData = new UnsafeBuffer(0, 0);
    private final BufferClaim bufferClaim = new BufferClaim();
    private final CallResult callResult = new CallResult();
    private final ParameterLayout parameterLayout = new ParameterLayout();
    private final Long2ObjectHashMap<StagedImage> stagedImages = new Long2ObjectHashMap<>();
    private final BackendSession.DeviceDataSink dataChunkSender = this::sendDataChunk;
    private final Consumer<String> printfSink = this::sendDeviceOutput;
    private final MessageHeaderEncoder printfHeaderEncoder = new MessageHeaderEncoder();

    private volatile boolean closeRequested;
    private volatile boolean running = true;
    private long dtoHCorrelationId;
    private long stagedBytes;
    private long callsExecuted;

    SessionAgent(
        final long sessionId,
        final String clientId,
        final GpuDescriptor gpu,
        final int requestStreamId,
        final long openCorrelationId,
        final Subscription requests,
        final Publication replies,
        final BackendSession backend,
        final ServerErrorLog errorLog,
        final long livenessTimeoutNs,
        final Runnable onClosed)
    {
        this.sessionId = sessionId;
        this.clientId = clientId;
        this.gpu = gpu;
        this.requestStreamId = requestStreamId;
        this.openCorrelationId = openCorrelationId;
        this.requests = requests;
        this.replies = replies;
        this.backend = backend;
        this.errorLog = errorLog;
        this.livenessTimeoutNs = livenessTimeoutNs;
        this.onClosed = onClosed;
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
        return backend.sliceBytes();
    }

    long allocatedBytes()
    {
        return backend.allocatedBytes();
    }

    boolean isRunning()
    {
        return running;
    }

    void requestClose()
    {
        closeRequested = true;
    }

    public void run()
    {
        final String reason;
        try
        {
            reason = serve();
        }
        catch (final Throwable ex)
        {
            errorLog.record("session " + sessionId + " (" + clientId + ") failed: " + ex);
            // Tell the client why its session ends, so it reports the server's fault, not a lost network.
            try
            {
                reportAsyncError(CUDA_ERROR_UNKNOWN, true, "the server's session failed: " + ex);
            }
            catch (final Throwable ignore)
            {
                // The reply stream itself is broken: the client notices the closed session instead.
            }
            cleanUp("internal error");
            return;
        }
        cleanUp(reason);
    }

    private String serve()
    {
        if (!awaitConnected())
        {
            return "client never connected its reply stream";
        }
        if (!sendOpenReply())
        {
            return "client went away before the session opened";
        }

        final long connectDeadlineNs = System.nanoTime() + livenessTimeoutNs * 2;
        boolean clientConnected = false;
        long repliesLostSinceNs = 0;
        while (!closeRequested)
        {
            final int work = requests.poll(assembler, 64);
            if (requests.imageCount() > 0)
            {
                clientConnected = true;
            }
            else if (clientConnected)
            {
                return "client disconnected";
            }
            else if (System.nanoTime() > connectDeadlineNs)
            {
                return "client never connected its request stream";
            }

            if (!replies.isConnected())
            {
                final long nowNs = System.nanoTime();
                if (repliesLostSinceNs == 0)
                {
                    repliesLostSinceNs = nowNs;
                }
                else if (nowNs - repliesLostSinceNs > livenessTimeoutNs)
                {
                    return "client stopped receiving replies";
                }
            }
            else
            {
                repliesLostSinceNs = 0;
            }
            idleStrategy.idle(work);
        }
        return "closed by client";
    }

    private void cleanUp(final String reason)
    {
        final long heldBytes = backend.allocatedBytes();
        CloseHelper.quietClose(backend::close);
        CloseHelper.quietCloseAll(requests, replies);
        running = false;
        onClosed.run();
        errorLog.info("session " + sessionId + " (" + clientId + ") ended: " + reason + "; freed " + heldBytes +
            " bytes after " + callsExecuted + " calls");
    }

    private boolean awaitConnected()
    {
        final long deadlineNs = System.nanoTime() + Math.max(livenessTimeoutNs, TimeUnit.SECONDS.toNanos(2));
        while (!replies.isConnected())
        {
            if (System.nanoTime() > deadlineNs || closeRequested)
            {
                return false;
            }
            idleStrategy.idle();
        }
        idleStrategy.reset();
        return true;
    }

    private boolean sendOpenReply()
    {
        openReplyEncoder.wrapAndApplyHeader(replyBuffer, 0, headerEncoder)
            .correlationId(openCorrelationId)
            .status(SessionStatus.OPENED)
            .sessionId(sessionId)
            .requestStreamId(requestStreamId)
            .protocolVersion(Protocol.VERSION)
            .sliceBytes(backend.sliceBytes())
            .computeCapabilityMajor(gpu.computeCapabilityMajor())
            .computeCapabilityMinor(gpu.computeCapabilityMinor())
            .putUuid(gpu.uuid(), 0, 16);
        final SessionOpenReplyEncoder.AttributesEncoder attributes =
            openReplyEncoder.attributesCount(gpu.attributeIds().length);
        for (int i = 0; i < gpu.attributeIds().length; i++)
        {
            attributes.next().attribute(gpu.attributeIds()[i]).value(gpu.attributeValues()[i]);
        }
        openReplyEncoder.deviceName(gpu.name()).message("");
        return offer(replyBuffer, MessageHeaderEncoder.ENCODED_LENGTH + openReplyEncoder.encodedLength());
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        callsExecuted++;
        if (length < MessageHeaderDecoder.ENCODED_LENGTH)
        {
            reportAsyncError(CUDA_ERROR_INVALID_VALUE, false, "truncated message of " + length + " bytes");
            return;
        }

        headerDecoder.wrap(buffer, offset);
        final int templateId = headerDecoder.templateId();
        if (headerDecoder.schemaId() != MessageHeaderDecoder.SCHEMA_ID)
        {
            reportAsyncError(CUDA_ERROR_INVALID_VALUE, false,
                "message of unknown schema " + headerDecoder.schemaId() + " (template " + templateId + ")");
            return;
        }
        if (length < MessageHeaderDecoder.ENCODED_LENGTH + headerDecoder.blockLength())
        {
            reportAsyncError(CUDA_ERROR_INVALID_VALUE, false,
                "truncated message: template " + templateId + " needs " + headerDecoder.blockLength() +
                " bytes of fields, got " + (length - MessageHeaderDecoder.ENCODED_LENGTH));
            return;
        }

        try
        {
            dispatch(templateId, buffer, offset + MessageHeaderDecoder.ENCODED_LENGTH, offset + length);
        }
        catch (final IndexOutOfBoundsException | IllegalStateException | IllegalArgumentException ex)
        {
            reportAsyncError(CUDA_ERROR_INVALID_VALUE, false,
                "malformed message (template " + templateId + "): " + ex.getMessage());
        }
    }

    private void dispatch(final int templateId, final DirectBuffer buffer, final int offset, final int end)
    {
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        switch (templateId)
        {
            case MemAllocDecoder.TEMPLATE_ID:
            {
                memAllocDecoder.wrap(buffer, offset, blockLength, version);
                final int status = backend.memAlloc(memAllocDecoder.bytes(), callResult.reset());
                sendResult(memAllocDecoder.correlationId(), status);
                break;
            }
            case MemFreeDecoder.TEMPLATE_ID:
            {
                memFreeDecoder.wrap(buffer, offset, blockLength, version);
                final long address = memFreeDecoder.deviceAddress();
                checkAsync(backend.memFree(address), "cuMemFree", address);
                break;
            }
            case MemGetInfoDecoder.TEMPLATE_ID:
            {
                memGetInfoDecoder.wrap(buffer, offset, blockLength, version);
                callResult.reset();
                callResult.value1 = backend.sliceBytes() - backend.allocatedBytes();
                callResult.value2 = backend.sliceBytes();
                sendResult(memGetInfoDecoder.correlationId(), CUDA_SUCCESS);
                break;
            }
            case MemcpyHtoDChunkDecoder.TEMPLATE_ID:
            {
                htoDDecoder.wrap(buffer, offset, blockLength, version);
                final int dataLength = htoDDecoder.dataLength();
                final int dataOffset = varDataOffset(htoDDecoder.limit(), MemcpyHtoDChunkDecoder.dataHeaderLength(),
                    dataLength, end);
                final long address = htoDDecoder.deviceAddress();
                checkAsync(backend.copyHostToDevice(htoDDecoder.streamHandle(), address, buffer, dataOffset, dataLength),
                    "cuMemcpyHtoD", address);
                break;
            }
            case MemcpyDtoHDecoder.TEMPLATE_ID:
            {
                dtoHDecoder.wrap(buffer, offset, blockLength, version);
                dtoHCorrelationId = dtoHDecoder.correlationId();
                final int status = backend.copyDeviceToHost(
                    dtoHDecoder.streamHandle(), dtoHDecoder.deviceAddress(), dtoHDecoder.bytes(),
                    maxDataChunkBytes(), dataChunkSender, printfSink);
                callResult.reset();
                sendResult(dtoHCorrelationId, status);
                break;
            }
            case MemcpyDtoDDecoder.TEMPLATE_ID:
            {
                dtoDDecoder.wrap(buffer, offset, blockLength, version);
                checkAsync(backend.copyDeviceToDevice(dtoDDecoder.streamHandle(), dtoDDecoder.dstDeviceAddress(),
                    dtoDDecoder.srcDeviceAddress(), dtoDDecoder.bytes()), "cuMemcpyDtoD", dtoDDecoder.dstDeviceAddress());
                break;
            }
            case MemsetDecoder.TEMPLATE_ID:
            {
                memsetDecoder.wrap(buffer, offset, blockLength, version);
                checkAsync(backend.memset(memsetDecoder.streamHandle(), memsetDecoder.deviceAddress(),
                    memsetDecoder.value(), memsetDecoder.elementSize(), memsetDecoder.width(), memsetDecoder.height(),
                    memsetDecoder.pitch()), "cuMemset", memsetDecoder.deviceAddress());
                break;
            }
            case ContextCreateDecoder.TEMPLATE_ID:
                contextCreateDecoder.wrap(buffer, offset, blockLength, version);
                checkAsync(backend.contextCreate(contextCreateDecoder.contextHandle(), contextCreateDecoder.flags()),
                    "cuCtxCreate", contextCreateDecoder.contextHandle());
                break;
            case ContextDestroyDecoder.TEMPLATE_ID:
                contextDestroyDecoder.wrap(buffer, offset, blockLength, version);
                checkAsync(backend.contextDestroy(contextDestroyDecoder.contextHandle()),
                    "cuCtxDestroy", contextDestroyDecoder.contextHandle());
                break;
            case SynchronizeDecoder.TEMPLATE_ID:
            {
                synchronizeDecoder.wrap(buffer, offset, blockLength, version);
                final int status = backend.synchronize(
                    syncKind(synchronizeDecoder.kindRaw()), synchronizeDecoder.handle(), printfSink);
                callResult.reset();
                sendResult(synchronizeDecoder.correlationId(), status);
                break;
            }
            case StreamCreateDecoder.TEMPLATE_ID:
                streamCreateDecoder.wrap(buffer, offset, blockLength, version);
                checkAsync(backend.streamCreate(streamCreateDecoder.streamHandle(), streamCreateDecoder.contextHandle(),
                    streamCreateDecoder.flags(), streamCreateDecoder.priority()),
                    "cuStreamCreate", streamCreateDecoder.streamHandle());
                break;
            case StreamDestroyDecoder.TEMPLATE_ID:
                streamDestroyDecoder.wrap(buffer, offset, blockLength, version);
                checkAsync(backend.streamDestroy(streamDestroyDecoder.streamHandle()),
                    "cuStreamDestroy", streamDestroyDecoder.streamHandle());
                break;
            case StreamWaitEventDecoder.TEMPLATE_ID:
                streamWaitEventDecoder.wrap(buffer, offset, blockLength, version);
                checkAsync(backend.streamWaitEvent(
                    streamWaitEventDecoder.streamHandle(), streamWaitEventDecoder.eventHandle()),
                    "cuStreamWaitEvent", streamWaitEventDecoder.streamHandle());
                break;
            case EventCreateDecoder.TEMPLATE_ID:
                eventCreateDecoder.wrap(buffer, offset, blockLength, version);
                checkAsync(backend.eventCreate(eventCreateDecoder.eventHandle(), eventCreateDecoder.contextHandle(),
                    eventCreateDecoder.flags()), "cuEventCreate", eventCreateDecoder.eventHandle());
                break;
            case EventRecordDecoder.TEMPLATE_ID:
                eventRecordDecoder.wrap(buffer, offset, blockLength, version);
                checkAsync(backend.eventRecord(eventRecordDecoder.eventHandle(), eventRecordDecoder.streamHandle()),
                    "cuEventRecord", eventRecordDecoder.eventHandle());
                break;
            case EventDestroyDecoder.TEMPLATE_ID:
                eventDestroyDecoder.wrap(buffer, offset, blockLength, version);
                checkAsync(backend.eventDestroy(eventDestroyDecoder.eventHandle()),
                    "cuEventDestroy", eventDestroyDecoder.eventHandle());
                break;
            case EventElapsedTimeDecoder.TEMPLATE_ID:
            {
                elapsedTimeDecoder.wrap(buffer, offset, blockLength, version);
                final int status = backend.eventElapsedTime(
                    elapsedTimeDecoder.startEventHandle(), elapsedTimeDecoder.endEventHandle(), callResult.reset());
                sendResult(elapsedTimeDecoder.correlationId(), status);
                break;
            }
            case ModuleImageChunkDecoder.TEMPLATE_ID:
                imageChunkDecoder.wrap(buffer, offset, blockLength, version);
                stageImageChunk(buffer, end);
                break;
            case ModuleLoadDecoder.TEMPLATE_ID:
                moduleLoadDecoder.wrap(buffer, offset, blockLength, version);
                loadStagedModule();
                break;
            case ModuleUnloadDecoder.TEMPLATE_ID:
                moduleUnloadDecoder.wrap(buffer, offset, blockLength, version);
                unstage(moduleUnloadDecoder.moduleHandle());
                checkAsync(backend.moduleUnload(moduleUnloadDecoder.moduleHandle()),
                    "cuModuleUnload", moduleUnloadDecoder.moduleHandle());
                break;
            case ModuleGetFunctionDecoder.TEMPLATE_ID:
            {
                getFunctionDecoder.wrap(buffer, offset, blockLength, version);
                final long correlationId = getFunctionDecoder.correlationId();
                final long moduleHandle = getFunctionDecoder.moduleHandle();
                final long functionHandle = getFunctionDecoder.functionHandle();
                final int status = backend.moduleGetFunction(
                    moduleHandle, functionHandle, getFunctionDecoder.name(), parameterLayout);
                sendFunctionInfo(correlationId, status);
                break;
            }
            case ModuleGetGlobalDecoder.TEMPLATE_ID:
            {
                getGlobalDecoder.wrap(buffer, offset, blockLength, version);
                final long correlationId = getGlobalDecoder.correlationId();
                final long moduleHandle = getGlobalDecoder.moduleHandle();
                final int status = backend.moduleGetGlobal(moduleHandle, getGlobalDecoder.name(), callResult.reset());
                sendResult(correlationId, status);
                break;
            }
            case FunctionGetAttributeDecoder.TEMPLATE_ID:
            {
                getAttributeDecoder.wrap(buffer, offset, blockLength, version);
                final int status = backend.functionGetAttribute(
                    getAttributeDecoder.functionHandle(), getAttributeDecoder.attribute(), callResult.reset());
                sendResult(getAttributeDecoder.correlationId(), status);
                break;
            }
            case FunctionSetAttributeDecoder.TEMPLATE_ID:
            {
                setAttributeDecoder.wrap(buffer, offset, blockLength, version);
                final int status = backend.functionSetAttribute(
                    setAttributeDecoder.functionHandle(), setAttributeDecoder.attribute(), setAttributeDecoder.value());
                callResult.reset();
                sendResult(setAttributeDecoder.correlationId(), status);
                break;
            }
            case TensorMapEncodeDecoder.TEMPLATE_ID:
            {
                tensorMapDecoder.wrap(buffer, offset, blockLength, version);
                final long correlationId = tensorMapDecoder.correlationId();
                final int status = backend.tensorMapEncode(tensorMapDecoder.arguments(), tensorMap, callResult.reset());
                if (status == CUDA_SUCCESS)
                {
                    dtoHCorrelationId = correlationId;
                    sendDataChunk(0, tensorMap.addressOffset(), tensorMap.capacity());
                }
                sendResult(correlationId, status);
                break;
            }
            case ClusterOccupancyDecoder.TEMPLATE_ID:
            {
                final ClusterOccupancyDecoder query = clusterOccupancyDecoder.wrap(buffer, offset, blockLength, version);
                occupancyGrid[0] = query.gridX();
                occupancyGrid[1] = query.gridY();
                occupancyGrid[2] = query.gridZ();
                occupancyBlock[0] = query.blockX();
                occupancyBlock[1] = query.blockY();
                occupancyBlock[2] = query.blockZ();
                occupancyCluster[0] = query.clusterX();
                occupancyCluster[1] = query.clusterY();
                occupancyCluster[2] = query.clusterZ();
                final int status = backend.clusterOccupancy(query.functionHandle(), query.query(), occupancyGrid,
                    occupancyBlock, query.sharedMemBytes(), occupancyCluster, callResult.reset());
                sendResult(query.correlationId(), status);
                break;
            }
            case ContextLimitDecoder.TEMPLATE_ID:
            {
                contextLimitDecoder.wrap(buffer, offset, blockLength, version);
                final int status = backend.contextLimit(contextLimitDecoder.cuLimit(), contextLimitDecoder.set() != 0,
                    contextLimitDecoder.value(), callResult.reset());
                sendResult(contextLimitDecoder.correlationId(), status);
                break;
            }
            case LaunchKernelDecoder.TEMPLATE_ID:
                launchKernel(buffer, offset, blockLength, version, end);
                break;
            case SessionCloseDecoder.TEMPLATE_ID:
                sessionCloseDecoder.wrap(buffer, offset, blockLength, version);
                if (sessionCloseDecoder.sessionId() == sessionId)
                {
                    closeRequested = true;
                }
                else
                {
                    reportAsyncError(CUDA_ERROR_INVALID_VALUE, false,
                        "SessionClose names session " + sessionCloseDecoder.sessionId() + ", not this one");
                }
                break;
            default:
                reportAsyncError(CUDA_ERROR_NOT_SUPPORTED, false, "unknown opcode (template id " + templateId + ")");
        }
    }

    private void launchKernel(
        final DirectBuffer buffer, final int offset, final int blockLength, final int version, final int end)
    {
        launchDecoder.wrap(buffer, offset, blockLength, version);
        final int dataLength = launchDecoder.parametersLength();
        final int dataOffset = varDataOffset(launchDecoder.limit(), LaunchKernelDecoder.parametersHeaderLength(),
            dataLength, end);
        final int status = backend.launchKernel(
            launchDecoder.functionHandle(), launchDecoder.streamHandle(),
            launchDecoder.gridX(), launchDecoder.gridY(), launchDecoder.gridZ(),
            launchDecoder.blockX(), launchDecoder.blockY(), launchDecoder.blockZ(),
            launchDecoder.sharedMemBytes(), launchDecoder.clusterX(), launchDecoder.clusterY(), launchDecoder.clusterZ(),
            buffer, dataOffset, dataLength, printfSink);
        if (status != CUDA_SUCCESS)
        {
            final boolean sticky = status == CUDA_ERROR_ILLEGAL_ADDRESS || status == CUDA_ERROR_LAUNCH_FAILED;
            reportAsyncError(status, sticky, "kernel launch failed: " + CuResult.describe(status));
        }
    }

    private void stageImageChunk(final DirectBuffer buffer, final int end)
    {
        final long moduleHandle = imageChunkDecoder.moduleHandle();
        final long chunkOffset = imageChunkDecoder.byteOffset();
        final long totalBytes = imageChunkDecoder.totalBytes();
        final int dataLength = imageChunkDecoder.dataLength();
        final int dataOffset = varDataOffset(imageChunkDecoder.limit(), ModuleImageChunkDecoder.dataHeaderLength(),
            dataLength, end);

        if (totalBytes <= 0 || totalBytes > MAX_MODULE_IMAGE_BYTES)
        {
            reportAsyncError(CUDA_ERROR_INVALID_VALUE, false, "module image of " + totalBytes + " bytes refused");
            return;
        }
        StagedImage image = stagedImages.get(moduleHandle);
        if (image == null || chunkOffset == 0)
        {
            unstage(moduleHandle);
            if (stagedBytes + totalBytes > MAX_STAGED_BYTES)
            {
                reportAsyncError(CUDA_ERROR_OUT_OF_MEMORY, false, "module image of " + totalBytes +
                    " bytes refused: " + stagedBytes + " bytes of other images are staged and not loaded");
                return;
            }
            image = new StagedImage((int)totalBytes);
            stagedImages.put(moduleHandle, image);
            stagedBytes += totalBytes;
        }
        if (image.bytes.length != totalBytes || chunkOffset < 0 || chunkOffset + dataLength > totalBytes)
        {
            unstage(moduleHandle);
            reportAsyncError(CUDA_ERROR_INVALID_VALUE, false, "module image chunk out of range");
            return;
        }
        buffer.getBytes(dataOffset, image.bytes, (int)chunkOffset, dataLength);
        image.receivedBytes += dataLength;
    }

    private StagedImage unstage(final long moduleHandle)
    {
        final StagedImage image = stagedImages.remove(moduleHandle);
        if (image != null)
        {
            stagedBytes -= image.bytes.length;
        }
        return image;
    }

    private void loadStagedModule()
    {
        final long correlationId = moduleLoadDecoder.correlationId();
        final long moduleHandle = moduleLoadDecoder.moduleHandle();
        final StagedImage image = unstage(moduleHandle);
        callResult.reset();
        if (image == null || image.receivedBytes != image.bytes.length)
        {
            callResult.message = "module image incomplete or missing";
            sendResult(correlationId, CUDA_ERROR_INVALID_VALUE);
            return;
        }
        final int status = backend.moduleLoad(moduleHandle, moduleLoadDecoder.contextHandle(), image.bytes, callResult);
        sendResult(correlationId, status);
    }

    private int maxDataChunkBytes()
    {
        return replies.maxPayloadLength() - MessageHeaderEncoder.ENCODED_LENGTH - DataChunkEncoder.BLOCK_LENGTH -
            DataChunkEncoder.dataHeaderLength();
    }

    private boolean sendDataChunk(final long offset, final long hostMemory, final int length)
    {
        // Claimed in the publication's term, so the bytes are copied once, from where the backend holds them.
        deviceData.wrap(hostMemory, length);
        final int messageLength = MessageHeaderEncoder.ENCODED_LENGTH + DataChunkEncoder.BLOCK_LENGTH +
            DataChunkEncoder.dataHeaderLength() + length;
        final long deadlineNs = System.nanoTime() + livenessTimeoutNs;
        while (true)
        {
            final long position = replies.tryClaim(messageLength, bufferClaim);
            if (position > 0)
            {
                dataChunkEncoder.wrapAndApplyHeader(bufferClaim.buffer(), bufferClaim.offset(), headerEncoder)
                    .correlationId(dtoHCorrelationId)
                    .byteOffset(offset)
                    .putData(deviceData, 0, length);
                bufferClaim.commit();
                idleStrategy.reset();
                return true;
            }
            if (!awaitRetry(position, deadlineNs))
            {
                return false;
            }
        }
    }

    private void sendResult(final long correlationId, final int status)
    {
        resultEncoder.wrapAndApplyHeader(replyBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .result(status)
            .value1(callResult.value1)
            .value2(callResult.value2)
            .message(callResult.message);
        offer(replyBuffer, MessageHeaderEncoder.ENCODED_LENGTH + resultEncoder.encodedLength());
    }

    private void sendFunctionInfo(final long correlationId, final int status)
    {
        functionInfoEncoder.wrapAndApplyHeader(replyBuffer, 0, headerEncoder)
            .correlationId(correlationId)
            .result(status)
            .parameterBufferSize(status == CUDA_SUCCESS ? parameterLayout.bufferSize : 0);
        final int count = status == CUDA_SUCCESS ? parameterLayout.count : 0;
        final FunctionInfoEncoder.ParametersEncoder parameters = functionInfoEncoder.parametersCount(count);
        for (int i = 0; i < count; i++)
        {
            parameters.next().offset(parameterLayout.offsets[i]).size(parameterLayout.sizes[i]);
        }
        offer(replyBuffer, MessageHeaderEncoder.ENCODED_LENGTH + functionInfoEncoder.encodedLength());
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
        asyncErrorEncoder.wrapAndApplyHeader(replyBuffer, 0, headerEncoder)
            .result(status)
            .sticky(sticky ? STICKY : 0)
            .message(message);
        offer(replyBuffer, MessageHeaderEncoder.ENCODED_LENGTH + asyncErrorEncoder.encodedLength());
    }

    /**
     * Device printf output; the interpreter may call this from several block threads at once.
     */
    private synchronized void sendDeviceOutput(final String text)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        final int maxText = Math.min(printfBuffer.capacity(), replies.maxMessageLength()) - 64;
        for (int start = 0; start < bytes.length; start += maxText)
        {
            final int length = Math.min(maxText, bytes.length - start);
            deviceOutputEncoder.wrapAndApplyHeader(printfBuffer, 0, printfHeaderEncoder)
                .putText(bytes, start, length);
            offer(printfBuffer, MessageHeaderEncoder.ENCODED_LENGTH + deviceOutputEncoder.encodedLength());
        }
    }

    private boolean offer(final DirectBuffer buffer, final int length)
    {
        final long deadlineNs = System.nanoTime() + livenessTimeoutNs;
        while (true)
        {
            final long position = replies.offer(buffer, 0, length);
            if (position > 0)
            {
                idleStrategy.reset();
                return true;
            }
            if (!awaitRetry(position, deadlineNs))
            {
                return false;
            }
        }
    }

    /**
     * @return false, and the session set to close, when a refused reply cannot go out: the publication closed or
     * the client stopped reading for the liveness timeout.
     */
    private boolean awaitRetry(final long position, final long deadlineNs)
    {
        if (position == Publication.CLOSED || position == Publication.MAX_POSITION_EXCEEDED ||
            closeRequested || System.nanoTime() > deadlineNs)
        {
            closeRequested = true;
            return false;
        }
        idleStrategy.idle();
        return true;
    }

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

    /**
     * @return where var data of {@code length} bytes starts after its header at {@code limit}.
     * @throws IndexOutOfBoundsException when it would run past the message's end.
     */
    private static int varDataOffset(final int limit, final int headerLength, final int length, final int end)
    {
        if (length < 0 || (long)limit + headerLength + length > end)
        {
            throw new IndexOutOfBoundsException("data of " + (length & 0xFFFF_FFFFL) + " bytes runs past the message end");
        }
        return limit + headerLength;
    }
}
