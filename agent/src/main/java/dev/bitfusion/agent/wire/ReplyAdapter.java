package dev.bitfusion.agent.wire;

import dev.bitfusion.transport.protocol.AsyncErrorDecoder;
import dev.bitfusion.transport.protocol.DataChunkDecoder;
import dev.bitfusion.transport.protocol.DeviceOutputDecoder;
import dev.bitfusion.transport.protocol.FunctionInfoDecoder;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.transport.protocol.MessageBounds;
import dev.bitfusion.transport.protocol.MessageHeaderDecoder;
import dev.bitfusion.transport.protocol.ResultDecoder;
import dev.bitfusion.transport.protocol.SessionOpenReplyDecoder;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.DirectBuffer;

/**
 * Receives a session's replies: decodes each and routes it, results and data to the call slot whose
 * correlation id they carry, asynchronous errors, device output and the open reply to the session.
 * Replies for no waiting call (late, or forged) are dropped. Every reply's lengths and counts are checked before
 * it is read ({@link MessageBounds}), as the server checks requests: a malformed one fails the call it answers
 * with {@code CUDA_ERROR_UNKNOWN} and the reason, or, when no call can be told, is reported as an asynchronous
 * error; it never throws out of the poll nor leaves a caller waiting. Replies of a kind this client does not know
 * (a newer server's) are ignored.
 * <p>
 * Thread safety: called by whichever thread holds the session's poll lock, one at a time.
 */
final class ReplyAdapter implements FragmentHandler
{
    /**
     * What a session hears besides the replies to its calls.
     */
    interface Listener
    {
        /**
         * An asynchronous call failed on the server; the next synchronising call reports it.
         */
        void onAsyncError(int result, boolean sticky, String message);

        /**
         * Text a kernel printed.
         */
        void onDeviceOutput(String text);

        /**
         * The server's answer to the session open, wrapped in the decoder for the duration of the call.
         */
        void onSessionOpenReply(SessionOpenReplyDecoder reply);
    }

    private final CallSlots slots;
    private final Listener listener;
    private final MessageBounds bounds = new MessageBounds();
    private final MessageHeaderDecoder headerDecoder = new MessageHeaderDecoder();
    private final ResultDecoder resultDecoder = new ResultDecoder();
    private final DataChunkDecoder dataChunkDecoder = new DataChunkDecoder();
    private final FunctionInfoDecoder functionInfoDecoder = new FunctionInfoDecoder();
    private final AsyncErrorDecoder asyncErrorDecoder = new AsyncErrorDecoder();
    private final DeviceOutputDecoder deviceOutputDecoder = new DeviceOutputDecoder();
    private final SessionOpenReplyDecoder openReplyDecoder = new SessionOpenReplyDecoder();

    ReplyAdapter(final CallSlots slots, final Listener listener)
    {
        this.slots = slots;
        this.listener = listener;
    }

    public void onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header)
    {
        final int status = bounds.check(buffer, offset, length);
        if (status != MessageBounds.VALID)
        {
            if (status != MessageBounds.UNKNOWN_TEMPLATE)
            {
                onMalformed();
            }
            return;
        }
        headerDecoder.wrap(buffer, offset);
        final int bodyOffset = offset + MessageHeaderDecoder.ENCODED_LENGTH;
        final int blockLength = headerDecoder.blockLength();
        final int version = headerDecoder.version();
        switch (headerDecoder.templateId())
        {
            case ResultDecoder.TEMPLATE_ID:
                onResult(resultDecoder.wrap(buffer, bodyOffset, blockLength, version));
                break;
            case DataChunkDecoder.TEMPLATE_ID:
                onDataChunk(dataChunkDecoder.wrap(buffer, bodyOffset, blockLength, version));
                break;
            case FunctionInfoDecoder.TEMPLATE_ID:
                onFunctionInfo(functionInfoDecoder.wrap(buffer, bodyOffset, blockLength, version));
                break;
            case AsyncErrorDecoder.TEMPLATE_ID:
                asyncErrorDecoder.wrap(buffer, bodyOffset, blockLength, version);
                listener.onAsyncError(
                    asyncErrorDecoder.result(), asyncErrorDecoder.sticky() != 0, asyncErrorDecoder.message());
                break;
            case DeviceOutputDecoder.TEMPLATE_ID:
                listener.onDeviceOutput(deviceOutputDecoder.wrap(buffer, bodyOffset, blockLength, version).text());
                break;
            case SessionOpenReplyDecoder.TEMPLATE_ID:
                listener.onSessionOpenReply(openReplyDecoder.wrap(buffer, bodyOffset, blockLength, version));
                break;
            default:
                break;
        }
    }

    private void onMalformed()
    {
        final String message = "the server sent a malformed reply: " + bounds.reason();
        final CallSlot slot = bounds.hasCorrelationId() ? slots.waitingFor(bounds.correlationId()) : null;
        if (slot != null)
        {
            slot.result = CuResult.CUDA_ERROR_UNKNOWN;
            slot.message = message;
            slot.done = true;
        }
        else
        {
            listener.onAsyncError(CuResult.CUDA_ERROR_UNKNOWN, false, message);
        }
    }

    private void onResult(final ResultDecoder result)
    {
        final CallSlot slot = slots.waitingFor(result.correlationId());
        if (slot != null)
        {
            if (slot.awaitsAcknowledgement && result.result() == CuResult.CUDA_SUCCESS)
            {
                slot.awaitsAcknowledgement = false;
                slot.acknowledged = true;
                return;
            }
            slot.result = result.result();
            slot.value1 = result.value1();
            slot.value2 = result.value2();
            slot.message = result.messageLength() > 0 ? result.message() : null;
            slot.done = true;
        }
    }

    private void onDataChunk(final DataChunkDecoder chunk)
    {
        final CallSlot slot = slots.waitingFor(chunk.correlationId());
        final long chunkOffset = chunk.byteOffset();
        final int dataLength = chunk.dataLength();
        if (slot != null && chunkOffset >= 0 && chunkOffset + dataLength <= slot.copyBytes)
        {
            chunk.getData(slot.copyDestination, (int)chunkOffset, dataLength);
            slot.copyReceivedBytes += dataLength;
        }
    }

    private void onFunctionInfo(final FunctionInfoDecoder info)
    {
        final CallSlot slot = slots.waitingFor(info.correlationId());
        if (slot == null)
        {
            return;
        }
        slot.parameterBufferSize = info.parameterBufferSize();
        final FunctionInfoDecoder.ParametersDecoder parameters = info.parameters();
        final int count = parameters.count();
        if (slot.parameterOffsets.length < count)
        {
            slot.parameterOffsets = new int[count];
            slot.parameterSizes = new int[count];
        }
        int i = 0;
        for (final FunctionInfoDecoder.ParametersDecoder parameter : parameters)
        {
            slot.parameterOffsets[i] = parameter.offset();
            slot.parameterSizes[i] = parameter.size();
            i++;
        }
        slot.parameterCount = count;
        slot.result = info.result();
        slot.done = true;
    }
}
