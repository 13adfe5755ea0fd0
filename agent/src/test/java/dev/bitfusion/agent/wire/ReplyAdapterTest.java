package dev.bitfusion.agent.wire;

import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.transport.protocol.AsyncErrorEncoder;
import dev.bitfusion.transport.protocol.DataChunkEncoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import dev.bitfusion.transport.protocol.ResultEncoder;
import dev.bitfusion.transport.protocol.SessionOpenReplyDecoder;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A reply whose lengths cannot be trusted (a hostile or broken server) fails the call it answers, with the reason,
 * rather than throwing out of the poll or leaving the caller waiting.
 */
class ReplyAdapterTest
{
    private static final int HEADER = MessageHeaderEncoder.ENCODED_LENGTH;

    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private final CallSlots slots = new CallSlots();
    private final List<String> asyncErrors = new ArrayList<>();
    private final ReplyAdapter adapter = new ReplyAdapter(slots, new ReplyAdapter.Listener()
    {
        public void onAsyncError(final int result, final boolean sticky, final String message)
        {
            asyncErrors.add(result + " " + message);
        }

        public void onDeviceOutput(final String text)
        {
        }

        public void onSessionOpenReply(final SessionOpenReplyDecoder reply)
        {
        }
    });

    @Test
    void shouldCompleteACallWithItsResult()
    {
        final CallSlot slot = slots.forCurrentThread();
        final long correlationId = slot.arm();
        final int length = HEADER + new ResultEncoder().wrapAndApplyHeader(buffer, 0, header)
            .correlationId(correlationId).result(0).value1(42).message("").encodedLength();

        adapter.onFragment(buffer, 0, length, null);

        assertTrue(slot.done);
        assertEquals(0, slot.result);
        assertEquals(42, slot.value1);
    }

    @Test
    void shouldKeepWaitingForTheSecondResultOfACallAnsweredTwiceAndTakeAFailedFirstAsFinal()
    {
        final CallSlot slot = slots.forCurrentThread();
        long correlationId = slot.arm();
        slot.awaitsAcknowledgement = true;
        final int ready = result(correlationId, 0);
        adapter.onFragment(buffer, 0, ready, null);
        assertTrue(slot.acknowledged);
        assertFalse(slot.done, "the second Result is still to come");

        adapter.onFragment(buffer, 0, result(correlationId, CuResult.CUDA_ERROR_TIMEOUT), null);
        assertTrue(slot.done);
        assertEquals(CuResult.CUDA_ERROR_TIMEOUT, slot.result);

        correlationId = slot.arm();
        slot.awaitsAcknowledgement = true;
        adapter.onFragment(buffer, 0, result(correlationId, CuResult.CUDA_ERROR_INVALID_VALUE), null);
        assertFalse(slot.acknowledged);
        assertTrue(slot.done, "a failure before the acknowledgement is the only answer");
        assertEquals(CuResult.CUDA_ERROR_INVALID_VALUE, slot.result);
    }

    private int result(final long correlationId, final int status)
    {
        return HEADER + new ResultEncoder().wrapAndApplyHeader(buffer, 0, header)
            .correlationId(correlationId).result(status).message("").encodedLength();
    }

    @Test
    void shouldFailTheCallAReplyWithAHostileLengthAnswers()
    {
        final CallSlot slot = slots.forCurrentThread();
        final long correlationId = slot.arm();
        final byte[] data = new byte[64];
        final int length = HEADER + new DataChunkEncoder().wrapAndApplyHeader(buffer, 0, header)
            .correlationId(correlationId).byteOffset(0).putData(data, 0, data.length).encodedLength();
        buffer.putInt(HEADER + DataChunkEncoder.BLOCK_LENGTH, Integer.MAX_VALUE - 4, ByteOrder.LITTLE_ENDIAN);

        adapter.onFragment(buffer, 0, length, null);

        assertTrue(slot.done, "the caller is not left waiting");
        assertEquals(CuResult.CUDA_ERROR_UNKNOWN, slot.result);
        assertTrue(slot.message.startsWith("the server sent a malformed reply: DataChunk.data"), slot.message);
    }

    @Test
    void shouldReportAMalformedReplyThatNamesNoCallAsAnAsynchronousError()
    {
        final int length = HEADER + new AsyncErrorEncoder().wrapAndApplyHeader(buffer, 0, header)
            .result(700).sticky(1).message("launch failed").encodedLength();

        adapter.onFragment(buffer, 0, length - 4, null);

        assertEquals(1, asyncErrors.size());
        assertTrue(asyncErrors.get(0).startsWith(CuResult.CUDA_ERROR_UNKNOWN + " the server sent a malformed reply"),
            asyncErrors.toString());
    }

    @Test
    void shouldIgnoreAReplyOfAKindItDoesNotKnow()
    {
        final int length = HEADER + new ResultEncoder().wrapAndApplyHeader(buffer, 0, header)
            .correlationId(1).message("").encodedLength();
        buffer.putShort(2, (short)9_999, ByteOrder.LITTLE_ENDIAN);

        adapter.onFragment(buffer, 0, length, null);

        assertTrue(asyncErrors.isEmpty());
    }
}
