package dev.bitfusion.server;

import dev.bitfusion.server.backend.GpuDescriptor;
import dev.bitfusion.server.backend.ParameterLayout;
import dev.bitfusion.server.status.TrafficCounters;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.auth.FragmentAuthenticator;
import dev.bitfusion.transport.protocol.AsyncErrorEncoder;
import dev.bitfusion.transport.protocol.DataChunkEncoder;
import dev.bitfusion.transport.protocol.DeviceOutputEncoder;
import dev.bitfusion.transport.protocol.FunctionInfoEncoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import dev.bitfusion.transport.protocol.ResultEncoder;
import dev.bitfusion.transport.protocol.SessionOpenReplyEncoder;
import dev.bitfusion.transport.protocol.SessionStatus;
import io.aeron.ExclusivePublication;
import io.aeron.logbuffer.BufferClaim;
import io.aeron.protocol.DataHeaderFlyweight;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.bitfusion.cuda.CuResult.CUDA_SUCCESS;

/**
 * Encodes a session's replies and offers them on its client's reply stream, once each: a send returns false
 * when the publication is back pressured, not yet connected or closed, and the {@link ClientSession} decides
 * whether to queue the reply, retry it or end. What goes out is counted (bytes, and replies carrying an error).
 * <p>
 * In an encrypted session every reply after the SessionOpenReply is encrypted and tagged, fragment by fragment, by
 * the session's reply {@link FragmentAuthenticator}; the SessionOpenReply itself travels as it is, since it carries
 * the server's half of the key exchange the client needs to derive the keys.
 * <pre>
 *   SessionOpenReply  correlationId, status OPENED, sessionId, requestStreamId, protocolVersion, sliceBytes,
 *                     compute capability, uuid, reservationId, reservationKey (the holder's only),
 *                     attributes[attribute, value], deviceName, message,
 *                     serverPublicKey, serverProof (both empty when the server has no token)
 *   Result            correlationId, result (CUresult), value1, value2, message
 *   FunctionInfo      correlationId, result, parameterBufferSize, parameters[offset, size]
 *   DataChunk         correlationId, byteOffset, data (device-to-host bytes, claimed in the term: one copy)
 *   AsyncError        result, sticky, message
 *   DeviceOutput      text (device printf)
 * </pre>
 * Thread safety: the session's thread, except {@link #sendDeviceOutput}, which kernels' printf may call from
 * the threads of a launch while the session's thread waits for that launch; it has its own buffer and the
 * session serialises its callers.
 */
final class SessionReplyProxy implements AutoCloseable
{
    private static final int STICKY = 1;
    private static final byte[] NO_RESERVATION_KEY = new byte[SessionOpenReplyEncoder.reservationKeyLength()];
    private static final int REPLY_BUFFER_BYTES = 64 * 1024;

    private final TrafficCounters counters;
    private ExclusivePublication publication;
    private FragmentAuthenticator authenticator;
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[REPLY_BUFFER_BYTES]);
    private final UnsafeBuffer outputBuffer = new UnsafeBuffer(new byte[REPLY_BUFFER_BYTES]);
    private final UnsafeBuffer deviceData = new UnsafeBuffer(0, 0);
    private final BufferClaim bufferClaim = new BufferClaim();
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final MessageHeaderEncoder outputHeaderEncoder = new MessageHeaderEncoder();
    private final SessionOpenReplyEncoder openReplyEncoder = new SessionOpenReplyEncoder();
    private final ResultEncoder resultEncoder = new ResultEncoder();
    private final FunctionInfoEncoder functionInfoEncoder = new FunctionInfoEncoder();
    private final DataChunkEncoder dataChunkEncoder = new DataChunkEncoder();
    private final AsyncErrorEncoder asyncErrorEncoder = new AsyncErrorEncoder();
    private final DeviceOutputEncoder deviceOutputEncoder = new DeviceOutputEncoder();

    /**
     * @param counters the session's counters.
     */
    SessionReplyProxy(final TrafficCounters counters)
    {
        this.counters = counters;
    }

    /**
     * @param publication   the client's reply stream, made once the session knows the client's path; closed with
     *                      this proxy. Nothing is sent before.
     * @param authenticator what encrypts and tags every reply but the open reply, or null to send them as they are.
     */
    void connect(final ExclusivePublication publication, final FragmentAuthenticator authenticator)
    {
        this.publication = publication;
        this.authenticator = authenticator;
    }

    boolean isConnected()
    {
        return publication != null && publication.isConnected();
    }

    boolean isClosed()
    {
        return publication != null && publication.isClosed();
    }

    /**
     * @return the most device bytes one DataChunk carries.
     */
    int maxDataChunkBytes()
    {
        return publication.maxPayloadLength() - MessageHeaderEncoder.ENCODED_LENGTH - DataChunkEncoder.BLOCK_LENGTH -
            DataChunkEncoder.dataHeaderLength();
    }

    /**
     * @return the most bytes of text one DeviceOutput carries.
     */
    int maxDeviceOutputBytes()
    {
        return Math.min(outputBuffer.capacity(), publication.maxMessageLength()) - MessageHeaderEncoder.ENCODED_LENGTH -
            DeviceOutputEncoder.BLOCK_LENGTH - DeviceOutputEncoder.textHeaderLength();
    }

    /**
     * @param reservationKey the reservation's key for its holder, or null for a session attached to it.
     */
    boolean sendOpenReply(
        final long correlationId,
        final long sessionId,
        final int requestStreamId,
        final long sliceBytes,
        final GpuDescriptor gpu,
        final long reservationId,
        final byte[] reservationKey,
        final byte[] serverPublicKey,
        final byte[] serverProof)
    {
        openReplyEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .correlationId(correlationId)
            .status(SessionStatus.OPENED)
            .sessionId(sessionId)
            .requestStreamId(requestStreamId)
            .protocolVersion(Protocol.VERSION)
            .sliceBytes(sliceBytes)
            .computeCapabilityMajor(gpu.computeCapabilityMajor())
            .computeCapabilityMinor(gpu.computeCapabilityMinor())
            .putUuid(gpu.uuid(), 0, SessionOpenReplyEncoder.uuidLength())
            .reservationId(reservationId)
            .putReservationKey(reservationKey != null ? reservationKey : NO_RESERVATION_KEY, 0, NO_RESERVATION_KEY.length);
        final SessionOpenReplyEncoder.AttributesEncoder attributes =
            openReplyEncoder.attributesCount(gpu.attributeIds().length);
        for (int i = 0; i < gpu.attributeIds().length; i++)
        {
            attributes.next().attribute(gpu.attributeIds()[i]).value(gpu.attributeValues()[i]);
        }
        openReplyEncoder.deviceName(gpu.name()).message("")
            .putServerPublicKey(serverPublicKey, 0, serverPublicKey.length)
            .putServerProof(serverProof, 0, serverProof.length);
        // In the clear: the client derives the keys from what it carries.
        return offer(buffer, MessageHeaderEncoder.ENCODED_LENGTH + openReplyEncoder.encodedLength(), false, null);
    }

    /**
     * @param message why the call failed, or null.
     */
    boolean sendResult(
        final long correlationId, final int result, final long value1, final long value2, final String message)
    {
        resultEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .correlationId(correlationId)
            .result(result)
            .value1(value1)
            .value2(value2)
            .message(message);
        return offer(buffer, MessageHeaderEncoder.ENCODED_LENGTH + resultEncoder.encodedLength(), result != CUDA_SUCCESS);
    }

    /**
     * @param layout the kernel's parameters; sent only with CUDA_SUCCESS.
     */
    boolean sendFunctionInfo(final long correlationId, final int result, final ParameterLayout layout)
    {
        final boolean found = result == CUDA_SUCCESS;
        functionInfoEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .correlationId(correlationId)
            .result(result)
            .parameterBufferSize(found ? layout.bufferSize : 0);
        final int count = found ? layout.count : 0;
        final FunctionInfoEncoder.ParametersEncoder parameters = functionInfoEncoder.parametersCount(count);
        for (int i = 0; i < count; i++)
        {
            parameters.next().offset(layout.offsets[i]).size(layout.sizes[i]);
        }
        return offer(buffer, MessageHeaderEncoder.ENCODED_LENGTH + functionInfoEncoder.encodedLength(), !found);
    }

    boolean sendAsyncError(final int result, final boolean sticky, final String message)
    {
        asyncErrorEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .result(result)
            .sticky(sticky ? STICKY : 0)
            .message(message);
        return offer(buffer, MessageHeaderEncoder.ENCODED_LENGTH + asyncErrorEncoder.encodedLength(), true);
    }

    /**
     * Claimed in the publication's term, so the bytes are copied once, from where the backend holds them.
     *
     * @param hostMemory address of the bytes, at most {@link #maxDataChunkBytes()} of them.
     */
    boolean sendDataChunk(final long correlationId, final long byteOffset, final long hostMemory, final int length)
    {
        final int messageLength = MessageHeaderEncoder.ENCODED_LENGTH + DataChunkEncoder.BLOCK_LENGTH +
            DataChunkEncoder.dataHeaderLength() + length;
        if (publication.tryClaim(messageLength, bufferClaim) <= 0)
        {
            return false;
        }
        deviceData.wrap(hostMemory, length);
        dataChunkEncoder.wrapAndApplyHeader(bufferClaim.buffer(), bufferClaim.offset(), headerEncoder)
            .correlationId(correlationId)
            .byteOffset(byteOffset)
            .putData(deviceData, 0, length);
        if (authenticator != null)
        {
            // The claim's header is written (position and session), and nothing is visible before the commit:
            // the same moment an offer calls its supplier.
            bufferClaim.reservedValue(authenticator.seal(
                bufferClaim.buffer(), 0, DataHeaderFlyweight.HEADER_LENGTH + messageLength));
        }
        bufferClaim.commit();
        counters.onReply(messageLength, false);
        return true;
    }

    /**
     * @param text   UTF-8 bytes a kernel printed, at most {@link #maxDeviceOutputBytes()} of them from offset.
     */
    boolean sendDeviceOutput(final byte[] text, final int offset, final int length)
    {
        deviceOutputEncoder.wrapAndApplyHeader(outputBuffer, 0, outputHeaderEncoder).putText(text, offset, length);
        return offer(outputBuffer, MessageHeaderEncoder.ENCODED_LENGTH + deviceOutputEncoder.encodedLength(), false);
    }

    public void close()
    {
        CloseHelper.quietClose(publication);
    }

    private boolean offer(final DirectBuffer message, final int length, final boolean error)
    {
        return offer(message, length, error, authenticator);
    }

    private boolean offer(
        final DirectBuffer message, final int length, final boolean error, final FragmentAuthenticator sealer)
    {
        if (publication.offer(message, 0, length, sealer) > 0)
        {
            counters.onReply(length, error);
            return true;
        }
        return false;
    }
}
