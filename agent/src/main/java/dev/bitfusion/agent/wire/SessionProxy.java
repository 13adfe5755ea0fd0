package dev.bitfusion.agent.wire;

import dev.bitfusion.transport.protocol.*;
import org.agrona.DirectBuffer;
import dev.bitfusion.transport.auth.PeerKeys;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Encodes a session's requests and offers them on its ordered request stream: one method per request
 * message. Requests that expect a reply arm the caller's {@link CallSlot} with a fresh correlation id
 * first; the caller then waits with {@link ServerSession#await(CallSlot, int)}. Each calling thread encodes
 * into its own buffer (its slot's encoders), so threads send concurrently without locks or allocation.
 * <p>
 * Every method returns CUDA_SUCCESS once the request is in the stream, or the error that makes the server
 * unreachable (see {@link ServerSession#offer}).
 * <p>
 * Thread safety: thread safe.
 */
public final class SessionProxy
{
    private static final int HTOD_HEAD_LENGTH = MessageHeaderEncoder.ENCODED_LENGTH +
        MemcpyHtoDChunkEncoder.BLOCK_LENGTH + MemcpyHtoDChunkEncoder.dataHeaderLength();
    private static final int IMAGE_HEAD_LENGTH = MessageHeaderEncoder.ENCODED_LENGTH +
        ModuleImageChunkEncoder.BLOCK_LENGTH + ModuleImageChunkEncoder.dataHeaderLength();

    /** Where a launch's parameters start in the buffer {@link #encodeLaunch} returns. */
    public static final int LAUNCH_PARAMETERS_OFFSET = MessageHeaderEncoder.ENCODED_LENGTH +
        LaunchKernelEncoder.BLOCK_LENGTH + LaunchKernelEncoder.parametersHeaderLength();

    private final ServerSession session;

    SessionProxy(final ServerSession session)
    {
        this.session = session;
    }

    public int memAlloc(final CallSlot slot, final long bytes)
    {
        final RequestEncoders e = slot.encoders;
        e.memAlloc.wrapAndApplyHeader(e.buffer, 0, e.header).correlationId(slot.arm()).bytes(bytes);
        return session.offer(slot, e.buffer, length(e.memAlloc.encodedLength()));
    }

    public int memFree(final long deviceAddress)
    {
        final CallSlot slot = session.slot();
        final RequestEncoders e = slot.encoders;
        e.memFree.wrapAndApplyHeader(e.buffer, 0, e.header).deviceAddress(deviceAddress);
        return session.offer(slot, e.buffer, length(e.memFree.encodedLength()));
    }

    public int memGetInfo(final CallSlot slot)
    {
        final RequestEncoders e = slot.encoders;
        e.memGetInfo.wrapAndApplyHeader(e.buffer, 0, e.header).correlationId(slot.arm());
        return session.offer(slot, e.buffer, length(e.memGetInfo.encodedLength()));
    }

    /**
     * Host-to-device bytes, in as many chunks as the stream's largest message needs; the bytes are in the
     * stream when this returns, so the caller may reuse its memory at once.
     *
     * @param source host memory holding {@code bytes} bytes from {@code sourceOffset}.
     */
    public int memcpyHtoD(
        final long stream, final long deviceAddress, final DirectBuffer source, final int sourceOffset, final int bytes)
    {
        return memcpyHtoD(session.slot(), stream, deviceAddress, source, sourceOffset, bytes);
    }

    private int memcpyHtoD(
        final CallSlot slot, final long stream, final long deviceAddress, final DirectBuffer source,
        final int sourceOffset, final int bytes)
    {
        final RequestEncoders e = slot.encoders;
        final int chunkBytes = session.maxPayloadLength() - HTOD_HEAD_LENGTH;
        for (int done = 0; done < bytes; done += chunkBytes)
        {
            final int chunk = Math.min(chunkBytes, bytes - done);
            e.htoD.wrapAndApplyHeader(e.buffer, 0, e.header).streamHandle(stream).deviceAddress(deviceAddress + done);
            e.buffer.putInt(HTOD_HEAD_LENGTH - MemcpyHtoDChunkEncoder.dataHeaderLength(), chunk, ByteOrder.LITTLE_ENDIAN);
            final int status = session.offer(slot, e.buffer, HTOD_HEAD_LENGTH, source, sourceOffset + done, chunk);
            if (status != 0)
            {
                return status;
            }
        }
        return 0;
    }

    /**
     * Host-to-device bytes taken straight from native memory (see {@link #memcpyHtoD(long, long, DirectBuffer,
     * int, int)}).
     */
    public int memcpyHtoD(final long stream, final long deviceAddress, final long sourceAddress, final int bytes)
    {
        final CallSlot slot = session.slot();
        slot.encoders.userData.wrap(sourceAddress, bytes);
        return memcpyHtoD(slot, stream, deviceAddress, slot.encoders.userData, 0, bytes);
    }

    /**
     * The data arrives in the slot's destination ({@link CallSlot#copyInto}) before the reply.
     */
    public int memcpyDtoH(final CallSlot slot, final long stream, final long deviceAddress, final long bytes)
    {
        final RequestEncoders e = slot.encoders;
        e.dtoH.wrapAndApplyHeader(e.buffer, 0, e.header)
            .correlationId(slot.arm()).streamHandle(stream).deviceAddress(deviceAddress).bytes(bytes);
        return session.offer(slot, e.buffer, length(e.dtoH.encodedLength()));
    }

    public int memcpyDtoD(final long stream, final long dst, final long src, final long bytes)
    {
        final CallSlot slot = session.slot();
        final RequestEncoders e = slot.encoders;
        e.dtoD.wrapAndApplyHeader(e.buffer, 0, e.header)
            .streamHandle(stream).dstDeviceAddress(dst).srcDeviceAddress(src).bytes(bytes);
        return session.offer(slot, e.buffer, length(e.dtoD.encodedLength()));
    }

    /**
     * Tell this session's server to receive a copy from another server's GPU into {@code dst}: it answers once
     * ready to receive ({@link ServerSession#awaitAcknowledgement}), then once every byte is written or the receive
     * failed ({@link ServerSession#await}); a failure before it is ready is its only answer.
     *
     * @param peerKey the copy's key; masked here for the wire ({@link PeerKeys#mask}).
     */
    public int peerReceive(
        final CallSlot slot, final long stream, final long dst, final long bytes, final int peerStreamId,
        final boolean encrypt, final byte[] peerKey)
    {
        final RequestEncoders e = slot.encoders;
        final long correlationId = slot.arm();
        slot.awaitsAcknowledgement = true;
        session.maskPeerKey(correlationId, peerKey, e.peerKey);
        e.peerReceive.wrapAndApplyHeader(e.buffer, 0, e.header)
            .correlationId(correlationId).streamHandle(stream).dstDeviceAddress(dst).bytes(bytes)
            .peerStreamId(peerStreamId).encrypt(encrypt ? 1 : 0).putPeerKey(e.peerKey, 0, e.peerKey.length);
        return session.offer(slot, e.buffer, length(e.peerReceive.encodedLength()));
    }

    /**
     * Tell this session's server to send {@code bytes} from {@code src} to the server at {@code peerEndpoint},
     * which was told to receive them ({@link #peerReceive}) on the same stream with the same key.
     */
    public int peerSend(
        final CallSlot slot, final long stream, final long src, final long bytes, final int peerStreamId,
        final boolean encrypt, final byte[] peerKey, final String peerEndpoint)
    {
        final RequestEncoders e = slot.encoders;
        final long correlationId = slot.arm();
        session.maskPeerKey(correlationId, peerKey, e.peerKey);
        e.peerSend.wrapAndApplyHeader(e.buffer, 0, e.header)
            .correlationId(correlationId).streamHandle(stream).srcDeviceAddress(src).bytes(bytes)
            .peerStreamId(peerStreamId).encrypt(encrypt ? 1 : 0).putPeerKey(e.peerKey, 0, e.peerKey.length).peerEndpoint(peerEndpoint);
        return session.offer(slot, e.buffer, length(e.peerSend.encodedLength()));
    }

    public int memset(
        final long stream, final long deviceAddress, final int value, final int elementSize, final long width,
        final long height, final long pitch)
    {
        final CallSlot slot = session.slot();
        final RequestEncoders e = slot.encoders;
        e.memset.wrapAndApplyHeader(e.buffer, 0, e.header)
            .streamHandle(stream).deviceAddress(deviceAddress).value(value).elementSize(elementSize)
            .width(width).height(height).pitch(pitch);
        return session.offer(slot, e.buffer, length(e.memset.encodedLength()));
    }

    public int contextCreate(final long context, final int flags)
    {
        final CallSlot slot = session.slot();
        final RequestEncoders e = slot.encoders;
        e.contextCreate.wrapAndApplyHeader(e.buffer, 0, e.header).contextHandle(context).flags(flags);
        return session.offer(slot, e.buffer, length(e.contextCreate.encodedLength()));
    }

    public int contextDestroy(final long context)
    {
        final CallSlot slot = session.slot();
        final RequestEncoders e = slot.encoders;
        e.contextDestroy.wrapAndApplyHeader(e.buffer, 0, e.header).contextHandle(context);
        return session.offer(slot, e.buffer, length(e.contextDestroy.encodedLength()));
    }

    /**
     * @param kind what to wait for or ask about.
     */
    public int synchronize(final CallSlot slot, final SyncKind kind, final long handle)
    {
        final RequestEncoders e = slot.encoders;
        e.synchronize.wrapAndApplyHeader(e.buffer, 0, e.header).correlationId(slot.arm()).kind(kind).handle(handle);
        return session.offer(slot, e.buffer, length(e.synchronize.encodedLength()));
    }

    public int streamCreate(final long stream, final long context, final int flags, final int priority)
    {
        final CallSlot slot = session.slot();
        final RequestEncoders e = slot.encoders;
        e.streamCreate.wrapAndApplyHeader(e.buffer, 0, e.header)
            .streamHandle(stream).contextHandle(context).flags(flags).priority(priority);
        return session.offer(slot, e.buffer, length(e.streamCreate.encodedLength()));
    }

    public int streamDestroy(final long stream)
    {
        final CallSlot slot = session.slot();
        final RequestEncoders e = slot.encoders;
        e.streamDestroy.wrapAndApplyHeader(e.buffer, 0, e.header).streamHandle(stream);
        return session.offer(slot, e.buffer, length(e.streamDestroy.encodedLength()));
    }

    public int streamWaitEvent(final long stream, final long event)
    {
        final CallSlot slot = session.slot();
        final RequestEncoders e = slot.encoders;
        e.streamWaitEvent.wrapAndApplyHeader(e.buffer, 0, e.header).streamHandle(stream).eventHandle(event);
        return session.offer(slot, e.buffer, length(e.streamWaitEvent.encodedLength()));
    }

    public int eventCreate(final long event, final long context, final int flags)
    {
        final CallSlot slot = session.slot();
        final RequestEncoders e = slot.encoders;
        e.eventCreate.wrapAndApplyHeader(e.buffer, 0, e.header).eventHandle(event).contextHandle(context).flags(flags);
        return session.offer(slot, e.buffer, length(e.eventCreate.encodedLength()));
    }

    public int eventRecord(final long event, final long stream)
    {
        final CallSlot slot = session.slot();
        final RequestEncoders e = slot.encoders;
        e.eventRecord.wrapAndApplyHeader(e.buffer, 0, e.header).eventHandle(event).streamHandle(stream);
        return session.offer(slot, e.buffer, length(e.eventRecord.encodedLength()));
    }

    public int eventDestroy(final long event)
    {
        final CallSlot slot = session.slot();
        final RequestEncoders e = slot.encoders;
        e.eventDestroy.wrapAndApplyHeader(e.buffer, 0, e.header).eventHandle(event);
        return session.offer(slot, e.buffer, length(e.eventDestroy.encodedLength()));
    }

    /**
     * The reply's first value holds the elapsed milliseconds as float bits.
     */
    public int eventElapsedTime(final CallSlot slot, final long start, final long end)
    {
        final RequestEncoders e = slot.encoders;
        e.elapsedTime.wrapAndApplyHeader(e.buffer, 0, e.header)
            .correlationId(slot.arm()).startEventHandle(start).endEventHandle(end);
        return session.offer(slot, e.buffer, length(e.elapsedTime.encodedLength()));
    }

    /**
     * A module image, in chunks staged on the server until {@link #moduleLoad}.
     */
    public int moduleImage(final long module, final DirectBuffer image, final int imageLength)
    {
        return moduleImage(session.slot(), module, image, imageLength);
    }

    private int moduleImage(final CallSlot slot, final long module, final DirectBuffer image, final int imageLength)
    {
        final RequestEncoders e = slot.encoders;
        final int chunkBytes = session.maxPayloadLength() - IMAGE_HEAD_LENGTH;
        for (int offset = 0; offset < imageLength; offset += chunkBytes)
        {
            final int chunk = Math.min(chunkBytes, imageLength - offset);
            e.imageChunk.wrapAndApplyHeader(e.buffer, 0, e.header)
                .moduleHandle(module).byteOffset(offset).totalBytes(imageLength);
            e.buffer.putInt(IMAGE_HEAD_LENGTH - ModuleImageChunkEncoder.dataHeaderLength(), chunk, ByteOrder.LITTLE_ENDIAN);
            final int status = session.offer(slot, e.buffer, IMAGE_HEAD_LENGTH, image, offset, chunk);
            if (status != 0)
            {
                return status;
            }
        }
        return 0;
    }

    /**
     * A module image held in an array (see {@link #moduleImage(long, DirectBuffer, int)}).
     */
    public int moduleImage(final long module, final byte[] image)
    {
        final CallSlot slot = session.slot();
        slot.encoders.userData.wrap(image);
        return moduleImage(slot, module, slot.encoders.userData, image.length);
    }

    /**
     * Load the staged image; the reply's message says why it cannot load.
     */
    public int moduleLoad(final CallSlot slot, final long module, final long context)
    {
        final RequestEncoders e = slot.encoders;
        e.moduleLoad.wrapAndApplyHeader(e.buffer, 0, e.header)
            .correlationId(slot.arm()).moduleHandle(module).contextHandle(context);
        return session.offer(slot, e.buffer, length(e.moduleLoad.encodedLength()));
    }

    public int moduleUnload(final long module)
    {
        final CallSlot slot = session.slot();
        final RequestEncoders e = slot.encoders;
        e.moduleUnload.wrapAndApplyHeader(e.buffer, 0, e.header).moduleHandle(module);
        return session.offer(slot, e.buffer, length(e.moduleUnload.encodedLength()));
    }

    /**
     * Answered by the function's parameter layout in the slot.
     */
    public int moduleGetFunction(final CallSlot slot, final long module, final long function, final String name)
    {
        final RequestEncoders e = slot.encoders;
        e.getFunction.wrapAndApplyHeader(e.buffer, 0, e.header)
            .correlationId(slot.arm()).moduleHandle(module).functionHandle(function).name(name);
        return session.offer(slot, e.buffer, length(e.getFunction.encodedLength()));
    }

    /**
     * The reply's values are the global's device address and size.
     */
    public int moduleGetGlobal(final CallSlot slot, final long module, final String name)
    {
        final RequestEncoders e = slot.encoders;
        e.getGlobal.wrapAndApplyHeader(e.buffer, 0, e.header).correlationId(slot.arm()).moduleHandle(module).name(name);
        return session.offer(slot, e.buffer, length(e.getGlobal.encodedLength()));
    }

    public int functionGetAttribute(final CallSlot slot, final long function, final int attribute)
    {
        final RequestEncoders e = slot.encoders;
        e.getAttribute.wrapAndApplyHeader(e.buffer, 0, e.header)
            .correlationId(slot.arm()).functionHandle(function).attribute(attribute);
        return session.offer(slot, e.buffer, length(e.getAttribute.encodedLength()));
    }

    public int functionSetAttribute(final CallSlot slot, final long function, final int attribute, final int value)
    {
        final RequestEncoders e = slot.encoders;
        e.setAttribute.wrapAndApplyHeader(e.buffer, 0, e.header)
            .correlationId(slot.arm()).functionHandle(function).attribute(attribute).value(value);
        return session.offer(slot, e.buffer, length(e.setAttribute.encodedLength()));
    }

    /**
     * cuCtxGetLimit ({@code set} false) or cuCtxSetLimit; the reply's first value is the limit.
     */
    public int contextLimit(final CallSlot slot, final int limit, final boolean set, final long value)
    {
        final RequestEncoders e = slot.encoders;
        e.contextLimit.wrapAndApplyHeader(e.buffer, 0, e.header)
            .correlationId(slot.arm()).cuLimit(limit).set(set ? 1 : 0).value(value);
        return session.offer(slot, e.buffer, length(e.contextLimit.encodedLength()));
    }

    /**
     * Encode a TensorMapEncode request in the calling thread's buffer, its arguments zeroed: the caller fills
     * them in and sends with {@link #sendTensorMapEncode}. The 128-byte map arrives in the slot's destination
     * ({@link CallSlot#copyInto}) before the reply.
     *
     * @return the request's arguments, to fill in.
     */
    public TensorMapArgumentsEncoder tensorMapEncode(final CallSlot slot)
    {
        final RequestEncoders e = slot.encoders;
        e.tensorMapEncode.wrapAndApplyHeader(e.buffer, 0, e.header).correlationId(slot.arm());
        final TensorMapArgumentsEncoder arguments = e.tensorMapEncode.arguments();
        e.buffer.setMemory(arguments.offset(), TensorMapArgumentsEncoder.ENCODED_LENGTH, (byte)0);
        return arguments;
    }

    public int sendTensorMapEncode(final CallSlot slot)
    {
        final RequestEncoders e = slot.encoders;
        return session.offer(slot, e.buffer, length(e.tensorMapEncode.encodedLength()));
    }

    /**
     * @param query 0 for the most clusters resident at once, 1 for the largest cluster size.
     */
    public int clusterOccupancy(
        final CallSlot slot, final long function, final int query,
        final int gridX, final int gridY, final int gridZ, final int blockX, final int blockY, final int blockZ,
        final int sharedMemBytes, final int clusterX, final int clusterY, final int clusterZ)
    {
        final RequestEncoders e = slot.encoders;
        e.clusterOccupancy.wrapAndApplyHeader(e.buffer, 0, e.header)
            .correlationId(slot.arm()).functionHandle(function).query(query)
            .gridX(gridX).gridY(gridY).gridZ(gridZ)
            .blockX(blockX).blockY(blockY).blockZ(blockZ)
            .sharedMemBytes(sharedMemBytes)
            .clusterX(clusterX).clusterY(clusterY).clusterZ(clusterZ);
        return session.offer(slot, e.buffer, length(e.clusterOccupancy.encodedLength()));
    }

    /**
     * Encode a launch's fields into the calling thread's buffer, its parameters zeroed: the caller packs
     * them into the returned buffer from {@link #LAUNCH_PARAMETERS_OFFSET} at their offsets, then calls
     * {@link #sendLaunch}. Parameters are packed in place, so a launch costs no copy but the one into the
     * stream.
     *
     * @param slot the calling thread's slot.
     * @return the buffer the launch is encoded in.
     */
    public MutableDirectBuffer encodeLaunch(
        final CallSlot slot, final long function, final long stream,
        final int gridX, final int gridY, final int gridZ,
        final int blockX, final int blockY, final int blockZ,
        final int sharedMemBytes, final int clusterX, final int clusterY, final int clusterZ, final int parameterBytes)
    {
        final RequestEncoders e = slot.encoders;
        e.launch.wrapAndApplyHeader(e.buffer, 0, e.header)
            .functionHandle(function).streamHandle(stream)
            .gridX(gridX).gridY(gridY).gridZ(gridZ)
            .blockX(blockX).blockY(blockY).blockZ(blockZ)
            .sharedMemBytes(sharedMemBytes)
            .clusterX(clusterX).clusterY(clusterY).clusterZ(clusterZ);
        e.buffer.putInt(LAUNCH_PARAMETERS_OFFSET - LaunchKernelEncoder.parametersHeaderLength(), parameterBytes,
            ByteOrder.LITTLE_ENDIAN);
        e.buffer.setMemory(LAUNCH_PARAMETERS_OFFSET, parameterBytes, (byte)0);
        return e.buffer;
    }

    /**
     * Offer the launch {@link #encodeLaunch} encoded, with its parameters packed.
     */
    public int sendLaunch(final CallSlot slot, final int parameterBytes)
    {
        return session.offer(slot, slot.encoders.buffer, LAUNCH_PARAMETERS_OFFSET + parameterBytes);
    }

    /**
     * Best effort: the server ends the session and frees all it held; a server that does not hear it frees
     * the same once the liveness timeout tells it this client is gone.
     */
    void sessionClose(final long sessionId)
    {
        final CallSlot slot = session.slot();
        final RequestEncoders e = slot.encoders;
        e.sessionClose.wrapAndApplyHeader(e.buffer, 0, e.header).sessionId(sessionId);
        session.offerOnce(e.buffer, length(e.sessionClose.encodedLength()));
    }

    private static int length(final int encodedLength)
    {
        return MessageHeaderEncoder.ENCODED_LENGTH + encodedLength;
    }
}
