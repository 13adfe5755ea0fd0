package dev.bitfusion.server;

import dev.bitfusion.server.backend.emulated.EmulatedBackend;
import dev.bitfusion.server.status.ServerCounters;
import dev.bitfusion.server.status.TrafficCounters;
import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.protocol.*;
import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.bitfusion.server.IpcFixture.*;
import static dev.bitfusion.cuda.CuResult.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The session's wire classes together ({@link SessionAdapter}, {@link ClientSession}, {@link SessionReplyProxy})
 * over an embedded media driver's IPC streams, with the emulated GPU behind them; the test is the client, and
 * turns the session's agent itself.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ClientSessionTest
{
    private static final long LIVENESS_NS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final int REQUEST_STREAM = 100_001;
    private static final int REPLY_STREAM = 2_001;
    private static final int UNREAD_REPLY_STREAM = 2_002;
    private static final long SESSION_ID = 7;
    private static final long OPEN_CORRELATION_ID = 42;
    private static final long SLICE_BYTES = 16 << 20;

    private final EmulatedBackend backend = new EmulatedBackend(1, 64 << 20);
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private final ServerErrorLog errorLog = new ServerErrorLog(new PrintStream(log, true, StandardCharsets.UTF_8));
    private final AtomicBoolean closed = new AtomicBoolean();
    private final HostMemoryBudget hostMemory = new HostMemoryBudget(64 << 20, 8 << 20);
    private final UnsafeBuffer request = new UnsafeBuffer(new byte[128 * 1024]);
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private final MessageHeaderDecoder replyHeader = new MessageHeaderDecoder();
    private AeronTransport transport;
    private TrafficCounters gpuCounters;
    private TrafficCounters counters;
    private ExclusivePublication requests;
    private Subscription replies;
    private Received received;
    private ClientSession session;
    private AgentRunner runner;
    private boolean terminated;
    private boolean reading = true;

    @BeforeEach
    void open()
    {
        transport = launchTransport(LIVENESS_NS);
        final Aeron aeron = transport.aeron();
        gpuCounters = TrafficCounters.forGpu(aeron, 0);
        counters = TrafficCounters.forSession(aeron, SESSION_ID, "test-client", gpuCounters, 0);
        replies = aeron.addSubscription(REPLY_CHANNEL, REPLY_STREAM);
        requests = aeron.addExclusivePublication(REQUEST_CHANNEL, REQUEST_STREAM);
        received = new Received(replies);
    }

    /**
     * @param replyStream the stream the session answers on: the client's, or one nobody reads.
     */
    private void startSession(final int replyStream)
    {
        final Aeron aeron = transport.aeron();
        final GpuServer.Context context = new GpuServer.Context().backend(backend);
        // The replies' term is small, as the client's in the fixture, so that a test can meet back pressure.
        context.transportSettings().termLength(64 * 1024);
        final SessionAdmission.OpenRequest open = new SessionAdmission.OpenRequest(OPEN_CORRELATION_ID,
            Protocol.VERSION, 0, 0, 0, 0, REQUEST_STREAM, requests.sessionId(), replyStream, 0, "test-client",
            new byte[0], false, 0, new byte[16], false, 0, 0, new byte[0], REPLY_CHANNEL, null, 0);
        final Reservation reservation = new Reservation(SESSION_ID, 0, SLICE_BYTES, "test-client");
        session = new ClientSession(SESSION_ID, "test-client", backend.gpus().get(0),
            new SessionBinding(open, SESSION_ID, context, null),
            aeron.addSubscription(ChannelUris.onlySession(REQUEST_CHANNEL, requests.sessionId()), REQUEST_STREAM),
            aeron, REQUEST_CHANNEL, context.transportSettings(), backend.openSession(0, reservation.budget()), reservation, counters, hostMemory.newAccount(), errorLog, LIVENESS_NS,
            null, (ended) -> closed.set(true));
    }

    @AfterEach
    void close()
    {
        if (runner != null)
        {
            runner.close();
        }
        else if (session != null && !closed.get())
        {
            session.onClose();
        }
        CloseHelper.closeAll(requests, replies, gpuCounters, transport, backend);
    }

    @Test
    void shouldSendItsOpenReplyOnceTheClientsReplyStreamConnects()
    {
        startAndAwaitOpen();

        final SessionOpenReplyDecoder reply = new SessionOpenReplyDecoder()
            .wrapAndApplyHeader(received.last(SessionOpenReplyDecoder.TEMPLATE_ID), 0, replyHeader);
        assertEquals(OPEN_CORRELATION_ID, reply.correlationId());
        assertEquals(SessionStatus.OPENED, reply.status());
        assertEquals(SESSION_ID, reply.sessionId());
        assertEquals(REQUEST_STREAM, reply.requestStreamId());
        assertEquals(Protocol.VERSION, reply.protocolVersion());
        assertEquals(SLICE_BYTES, reply.sliceBytes());
        for (final SessionOpenReplyDecoder.AttributesDecoder attribute : reply.attributes())
        {
            assertTrue(attribute.attribute() > 0);
        }
        assertEquals(EmulatedBackend.DEVICE_NAME, reply.deviceName());
    }

    /**
     * The copy back is larger than the reply stream's window: the session waits for the client to read, so it
     * runs on a thread of its own, as in the server.
     */
    @Test
    void shouldCopyToTheDeviceAndBackWhenAskedInOrder()
    {
        startAndAwaitOpen();
        runner = new AgentRunner(new BackoffIdleStrategy(), errorLog, null, session);
        AgentRunner.startOnThread(runner);
        final int bytes = 64 * 1024;
        send(new MemAllocEncoder().wrapAndApplyHeader(request, 0, header).correlationId(1).bytes(bytes).encodedLength());
        final long address = awaitResult(1, CUDA_SUCCESS).value1();

        final byte[] pattern = new byte[bytes];
        for (int i = 0; i < bytes; i++)
        {
            pattern[i] = (byte)(i * 31);
        }
        send(new MemcpyHtoDChunkEncoder().wrapAndApplyHeader(request, 0, header)
            .streamHandle(0).deviceAddress(address).putData(pattern, 0, bytes).encodedLength());
        send(new MemcpyDtoHEncoder().wrapAndApplyHeader(request, 0, header)
            .correlationId(2).streamHandle(0).deviceAddress(address).bytes(bytes).encodedLength());
        awaitResult(2, CUDA_SUCCESS);

        final byte[] back = new byte[bytes];
        final DataChunkDecoder chunk = new DataChunkDecoder();
        for (final UnsafeBuffer message : received.messages)
        {
            if (replyHeader.wrap(message, 0).templateId() == DataChunkDecoder.TEMPLATE_ID)
            {
                chunk.wrapAndApplyHeader(message, 0, replyHeader);
                assertEquals(2, chunk.correlationId());
                final int offset = (int)chunk.byteOffset();
                chunk.getData(back, offset, chunk.dataLength());
            }
        }
        assertArrayEquals(pattern, back);
        assertTrue(received.count(DataChunkDecoder.TEMPLATE_ID) > 1, "the copy came back in chunks");
        assertEquals(3, counters.calls());
        assertTrue(counters.bytesIn() > bytes);
        assertTrue(counters.bytesOut() > bytes);
        assertEquals(counters.calls(), gpuCounters.calls());
        assertEquals(0, counters.errors());
    }

    @Test
    void shouldLoadAModuleSentInChunksAndDescribeItsKernel()
    {
        startAndAwaitOpen();
        final byte[] ptx = (".version 8.0\n.target sm_75\n.address_size 64\n" +
            ".visible .entry scale(.param .u64 data, .param .u32 count)\n{\n    ret;\n}\n")
            .getBytes(StandardCharsets.US_ASCII);
        final int half = ptx.length / 2;
        send(new ModuleImageChunkEncoder().wrapAndApplyHeader(request, 0, header)
            .moduleHandle(5).byteOffset(0).totalBytes(ptx.length).putData(ptx, 0, half).encodedLength());
        send(new ModuleImageChunkEncoder().wrapAndApplyHeader(request, 0, header)
            .moduleHandle(5).byteOffset(half).totalBytes(ptx.length).putData(ptx, half, ptx.length - half).encodedLength());
        send(new ModuleLoadEncoder().wrapAndApplyHeader(request, 0, header)
            .correlationId(6).moduleHandle(5).contextHandle(0).encodedLength());
        awaitResult(6, CUDA_SUCCESS);

        send(new ModuleGetFunctionEncoder().wrapAndApplyHeader(request, 0, header)
            .correlationId(7).moduleHandle(5).functionHandle(9).name("scale").encodedLength());
        await(this::turn, () -> received.count(FunctionInfoDecoder.TEMPLATE_ID) == 1, "the kernel's description");

        final FunctionInfoDecoder info = new FunctionInfoDecoder()
            .wrapAndApplyHeader(received.last(FunctionInfoDecoder.TEMPLATE_ID), 0, replyHeader);
        assertEquals(7, info.correlationId());
        assertEquals(CUDA_SUCCESS, info.result());
        final List<Integer> offsets = new ArrayList<>();
        for (final FunctionInfoDecoder.ParametersDecoder parameter : info.parameters())
        {
            offsets.add(parameter.offset());
        }
        assertEquals(List.of(0, 8), offsets);
    }

    @Test
    void shouldAnswerMalformedRequestsWithAsyncErrorsAndKeepServing()
    {
        startAndAwaitOpen();
        sendBytes(3);
        final int dataLengthOffset = MessageHeaderEncoder.ENCODED_LENGTH + MemcpyHtoDChunkEncoder.BLOCK_LENGTH;
        final int htoDLength = new MemcpyHtoDChunkEncoder().wrapAndApplyHeader(request, 0, header)
            .streamHandle(0).deviceAddress(0x1000).putData(new byte[16], 0, 16).encodedLength();
        request.putInt(dataLengthOffset, 1 << 30, ByteOrder.LITTLE_ENDIAN);
        send(htoDLength);
        header.wrap(request, 0).blockLength(0).templateId(999).schemaId(MessageHeaderEncoder.SCHEMA_ID).version(0);
        sendBytes(MessageHeaderEncoder.ENCODED_LENGTH);
        await(this::turn, () -> received.count(AsyncErrorDecoder.TEMPLATE_ID) == 3, "three asynchronous errors");

        send(new MemGetInfoEncoder().wrapAndApplyHeader(request, 0, header).correlationId(5).encodedLength());
        assertEquals(SLICE_BYTES, awaitResult(5, CUDA_SUCCESS).value2());

        final List<String> errors = new ArrayList<>();
        final List<Integer> results = new ArrayList<>();
        final AsyncErrorDecoder asyncError = new AsyncErrorDecoder();
        for (final UnsafeBuffer message : received.messages)
        {
            if (replyHeader.wrap(message, 0).templateId() == AsyncErrorDecoder.TEMPLATE_ID)
            {
                asyncError.wrapAndApplyHeader(message, 0, replyHeader);
                results.add(asyncError.result());
                errors.add(asyncError.message());
            }
        }
        assertEquals(List.of(CUDA_ERROR_INVALID_VALUE, CUDA_ERROR_INVALID_VALUE, CUDA_ERROR_NOT_SUPPORTED), results);
        assertTrue(errors.get(0).contains("truncated message of 3 bytes"), errors.get(0));
        assertTrue(errors.get(1).contains("runs past the message end"), errors.get(1));
        assertTrue(errors.get(2).contains("unknown opcode"), errors.get(2));
        assertEquals(3, counters.errors());
    }

    @Test
    void shouldAnswerACallWhoseLengthsAreHostileWithAResultForItsCorrelationId()
    {
        startAndAwaitOpen();
        final int nameLengthOffset = MessageHeaderEncoder.ENCODED_LENGTH + ModuleGetFunctionEncoder.BLOCK_LENGTH;
        for (final int hostileLength : new int[]{ 0x7FFF_FFF0, -16, 1 << 20 })
        {
            final long correlationId = 100 + (hostileLength & 0xFF);
            final int length = new ModuleGetFunctionEncoder().wrapAndApplyHeader(request, 0, header)
                .correlationId(correlationId).moduleHandle(1).functionHandle(2).name("kernel").encodedLength();
            request.putInt(nameLengthOffset, hostileLength, ByteOrder.LITTLE_ENDIAN);
            send(length);

            final String message = awaitResult(correlationId, CUDA_ERROR_INVALID_VALUE).message();
            assertTrue(message.contains("runs past the message end"), message);
        }
        send(new MemGetInfoEncoder().wrapAndApplyHeader(request, 0, header).correlationId(5).encodedLength());
        assertEquals(SLICE_BYTES, awaitResult(5, CUDA_SUCCESS).value2());
    }

    @Test
    void shouldHoldOnlyTheBytesThatArrivedOfAnImageThatAnnouncesMore()
    {
        startAndAwaitOpen();
        final int length = new ModuleImageChunkEncoder().wrapAndApplyHeader(request, 0, header)
            .moduleHandle(9).byteOffset(0).totalBytes(1L << 30).putData(new byte[50], 0, 50).encodedLength();
        send(length);
        send(new MemGetInfoEncoder().wrapAndApplyHeader(request, 0, header).correlationId(6).encodedLength());
        awaitResult(6, CUDA_SUCCESS);

        assertEquals(StagedModuleImages.MIN_CAPACITY, hostMemory.heldBytes(), "held for a 50-byte chunk of 1 GiB");
        assertEquals(0, received.count(AsyncErrorDecoder.TEMPLATE_ID));
    }

    @Test
    void shouldAnswerASyncKindItDoesNotKnowWithInvalidValue()
    {
        startAndAwaitOpen();
        final int length = new SynchronizeEncoder().wrapAndApplyHeader(request, 0, header)
            .correlationId(3).kind(SyncKind.CONTEXT_SYNCHRONIZE).handle(0).encodedLength();
        request.putInt(MessageHeaderEncoder.ENCODED_LENGTH + SynchronizeEncoder.kindEncodingOffset(), 99,
            ByteOrder.LITTLE_ENDIAN);
        send(length);

        awaitResult(3, CUDA_ERROR_INVALID_VALUE);
    }

    @Test
    void shouldRefuseAnAllocationPastItsSliceWithOutOfMemory()
    {
        startAndAwaitOpen();
        send(new MemAllocEncoder().wrapAndApplyHeader(request, 0, header)
            .correlationId(4).bytes(SLICE_BYTES + 1).encodedLength());

        final ResultDecoder result = awaitResult(4, CUDA_ERROR_OUT_OF_MEMORY);
        final String message = result.message();
        assertTrue(message.contains("exceeds the slice"), message);
        assertEquals(1, counters.errors());
    }

    @Test
    void shouldKeepRepliesInOrderWhenTheClientFallsBehind()
    {
        startAndAwaitOpen();
        final int calls = 3000;
        reading = false;
        for (int i = 1; i <= calls; i++)
        {
            send(new MemGetInfoEncoder().wrapAndApplyHeader(request, 0, header).correlationId(i).encodedLength());
        }
        await(this::turn, session::hasPendingReplies, "a reply the client had no room for");

        reading = true;
        await(this::turn, () -> received.count(ResultDecoder.TEMPLATE_ID) == calls, "every reply");
        final ResultDecoder result = new ResultDecoder();
        long expected = 1;
        for (final UnsafeBuffer message : received.messages)
        {
            if (replyHeader.wrap(message, 0).templateId() == ResultDecoder.TEMPLATE_ID)
            {
                assertEquals(expected++, result.wrapAndApplyHeader(message, 0, replyHeader).correlationId());
            }
        }
        assertFalse(terminated);
    }

    @Test
    void shouldFreeWhatItHeldAndItsCountersWhenTheClientClosesIt()
    {
        startAndAwaitOpen();
        send(new MemAllocEncoder().wrapAndApplyHeader(request, 0, header).correlationId(1).bytes(1 << 20).encodedLength());
        awaitResult(1, CUDA_SUCCESS);
        assertEquals(1, sessionCounters(), "the session's calls counter");

        send(new SessionCloseEncoder().wrapAndApplyHeader(request, 0, header).sessionId(SESSION_ID).encodedLength());
        await(this::turn, closed::get, "the session to end");

        assertEquals(0, session.allocatedBytes());
        await(this::turn, () -> sessionCounters() == 0, "the session's counters freed");
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("ended: closed by client; freed " + (1 << 20) + " bytes"),
            log::toString);
    }

    @Test
    void shouldEndWhenTheClientsRequestStreamGoesAway()
    {
        startAndAwaitOpen();
        requests.close();

        await(this::turn, closed::get, "the session to end");
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("ended: client disconnected"), log::toString);
    }

    @Test
    void shouldEndWhenTheClientNeverConnectsItsReplyStream()
    {
        startSession(UNREAD_REPLY_STREAM);

        await(this::turn, closed::get, "the session to end");
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("ended: client never connected its reply stream"),
            log::toString);
    }

    private void turn()
    {
        if (runner == null && !terminated)
        {
            try
            {
                session.doWork();
            }
            catch (final AgentTerminationException ex)
            {
                terminated = true;
                session.onClose();
            }
        }
        if (reading)
        {
            received.poll();
        }
    }

    private void startAndAwaitOpen()
    {
        startSession(REPLY_STREAM);
        await(this::turn, () -> received.count(SessionOpenReplyDecoder.TEMPLATE_ID) == 1 && requests.isConnected(),
            "the session to open");
    }

    /**
     * @param encodedLength the encoded length of the message in the request buffer, its header not included.
     */
    private void send(final int encodedLength)
    {
        sendBytes(MessageHeaderEncoder.ENCODED_LENGTH + encodedLength);
    }

    private void sendBytes(final int length)
    {
        await(this::turn, () -> requests.offer(request, 0, length) > 0, "room to send a request");
    }

    private ResultDecoder awaitResult(final long correlationId, final int expected)
    {
        final ResultDecoder result = new ResultDecoder();
        await(this::turn, () ->
        {
            final UnsafeBuffer last = received.last(ResultDecoder.TEMPLATE_ID);
            return last != null && result.wrapAndApplyHeader(last, 0, replyHeader).correlationId() == correlationId;
        }, "the result of call " + correlationId);
        assertEquals(expected, result.result(), () -> "call " + correlationId + ": " + result.message());
        return result;
    }

    private int sessionCounters()
    {
        final int[] found = new int[1];
        transport.aeron().countersReader().forEach((counterId, typeId, key, label) ->
        {
            if (typeId == ServerCounters.SESSION_CALLS_TYPE_ID && label.startsWith("bitfusion session " + SESSION_ID))
            {
                found[0]++;
            }
        });
        return found[0];
    }
}
