package dev.bitfusion.benchmarks.fuzz;

import dev.bitfusion.agent.wire.ClientLink;
import dev.bitfusion.agent.wire.ControlClient;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.protocol.*;
import io.aeron.ExclusivePublication;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A hostile client on the wire: opens a session the way any client does (its request publication and reply
 * subscription first, then a SessionOpen on the control stream naming them, without a token), then sends seeded, mutated messages of every kind on both streams: hostile lengths,
 * counts, handles, pointers and sizes, truncations, flipped bytes, foreign templates and schemas.
 * <p>
 * It keeps the server's promises as it goes: every request whose correlation id the server can read (the same
 * {@link MessageBounds} decides) must be answered, and {@link #checkpoint} proves it with a probe that the
 * session answers only after every earlier request. A session the fuzzer did not close must not end.
 * <p>
 * Thread safety: one thread.
 */
public final class WireFuzzer implements AutoCloseable
{
    /** Templates of the session request stream, and some that do not belong there. */
    private static final int[] SESSION_TEMPLATES = {
        MemAllocDecoder.TEMPLATE_ID, MemFreeDecoder.TEMPLATE_ID, MemGetInfoDecoder.TEMPLATE_ID,
        MemcpyHtoDChunkDecoder.TEMPLATE_ID, MemcpyDtoHDecoder.TEMPLATE_ID, MemcpyDtoDDecoder.TEMPLATE_ID,
        MemsetDecoder.TEMPLATE_ID, ContextCreateDecoder.TEMPLATE_ID, ContextDestroyDecoder.TEMPLATE_ID,
        SynchronizeDecoder.TEMPLATE_ID, StreamCreateDecoder.TEMPLATE_ID, StreamDestroyDecoder.TEMPLATE_ID,
        StreamWaitEventDecoder.TEMPLATE_ID, EventCreateDecoder.TEMPLATE_ID, EventRecordDecoder.TEMPLATE_ID,
        EventDestroyDecoder.TEMPLATE_ID, EventElapsedTimeDecoder.TEMPLATE_ID, ModuleImageChunkDecoder.TEMPLATE_ID,
        ModuleLoadDecoder.TEMPLATE_ID, ModuleUnloadDecoder.TEMPLATE_ID, ModuleGetFunctionDecoder.TEMPLATE_ID,
        ModuleGetGlobalDecoder.TEMPLATE_ID, FunctionGetAttributeDecoder.TEMPLATE_ID,
        FunctionSetAttributeDecoder.TEMPLATE_ID, ContextLimitDecoder.TEMPLATE_ID, TensorMapEncodeDecoder.TEMPLATE_ID,
        ClusterOccupancyDecoder.TEMPLATE_ID, LaunchKernelDecoder.TEMPLATE_ID, SessionCloseDecoder.TEMPLATE_ID,
        ResultDecoder.TEMPLATE_ID, SessionOpenDecoder.TEMPLATE_ID, ListGpusDecoder.TEMPLATE_ID,
    };
    private static final int[] CONTROL_TEMPLATES = {
        SessionOpenDecoder.TEMPLATE_ID, ListGpusDecoder.TEMPLATE_ID, HealthQueryDecoder.TEMPLATE_ID,
        SessionCloseDecoder.TEMPLATE_ID, MemAllocDecoder.TEMPLATE_ID,
    };
    /** The client id of the fuzzer's own sessions, as the server's log names them. */
    public static final String CLIENT_ID = "wire-fuzzer";
    private static final int HEADER = MessageHeaderEncoder.ENCODED_LENGTH;
    private static final byte[] NOTHING = new byte[0];
    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    private static final long PROBE_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(20);
    private static final byte[] PTX = (".version 7.0\n.target sm_80\n.address_size 64\n" +
        ".visible .entry k(.param .u64 p)\n{\n.reg .b64 %rd<2>;\nld.param.u64 %rd1, [p];\nret;\n}\n")
        .getBytes(StandardCharsets.US_ASCII);

    /** What a run found; a clean run has no findings. */
    public static final class Report
    {
        public long messages;
        public long controlMessages;
        public long answersExpected;
        public long answered;
        public long asyncErrors;
        public long controlReplies;
        public long sessionsOpened;
        public final List<String> findings = new ArrayList<>();
    }

    private final Endpoint server;
    private final SplittableRandom random;
    private final ClientLink link;
    private final int controlReplyStreamId = Protocol.newClientStreamId();
    private final Subscription controlReplies;
    private final ExclusivePublication control;
    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[256 * 1024]);
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private final MessageHeaderDecoder replyHeader = new MessageHeaderDecoder();
    private final MessageBounds bounds = new MessageBounds();
    private final ResultDecoder result = new ResultDecoder();
    private final FunctionInfoDecoder functionInfo = new FunctionInfoDecoder();
    private final SessionOpenReplyDecoder openReply = new SessionOpenReplyDecoder();
    private final FragmentAssembler controlAssembler = new FragmentAssembler(this::onReply);
    private final FragmentAssembler sessionAssembler = new FragmentAssembler(this::onReply);
    /** Answers still owed, by correlation id: a count, as a flipped byte may make two ids the same. */
    private final Long2LongHashMap owed = new Long2LongHashMap(0);
    private final long[] addresses = new long[8];
    private final Report report = new Report();
    private Subscription sessionReplies;
    private ExclusivePublication session;
    private long sessionId;
    private long openCorrelationId;
    private int openStatus = -1;
    private long openSessionId;
    private long nextCorrelationId = 1 << 20;
    private long probeCorrelationId = Long.MIN_VALUE;
    private long probeResult;
    private long probeValue;

    /**
     * @param server the server to attack.
     * @param seed   makes the run repeatable.
     */
    public WireFuzzer(final Endpoint server, final long seed)
    {
        this.server = server;
        this.random = new SplittableRandom(seed);
        link = ClientLink.towards(server, "udp", "fuzz");
        controlReplies = link.addReplySubscription(controlReplyStreamId);
        control = link.addExclusiveRequestPublication(Protocol.CONTROL_STREAM_ID, controlReplies);
        openSession();
    }

    public Report report()
    {
        return report;
    }

    /**
     * Send {@code count} fuzzed messages, about one in ten on the control stream.
     */
    public void fuzz(final int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (random.nextInt(10) == 0)
            {
                final int length = mutate(encodeControl(CONTROL_TEMPLATES[random.nextInt(CONTROL_TEMPLATES.length)]));
                offer(control, length);
                report.controlMessages++;
            }
            else
            {
                final int length = mutate(encodeSession(SESSION_TEMPLATES[random.nextInt(SESSION_TEMPLATES.length)]));
                spareOwnSession(length);
                expectAnswer(length);
                offer(session, length);
            }
            report.messages++;
            poll();
        }
    }

    /**
     * Prove that every request the server could read was answered and the session still serves: a MemGetInfo
     * is answered only after every earlier request.
     *
     * @return false, with a finding, when it was not.
     */
    public boolean checkpoint()
    {
        final long correlationId = nextCorrelationId++;
        final int length = HEADER + new MemGetInfoEncoder().wrapAndApplyHeader(buffer, 0, header)
            .correlationId(correlationId).encodedLength();
        probeCorrelationId = Long.MIN_VALUE;
        offer(session, length);
        final long deadlineNs = System.nanoTime() + PROBE_TIMEOUT_NS;
        while (probeCorrelationId != correlationId)
        {
            if (System.nanoTime() > deadlineNs)
            {
                report.findings.add("no answer to a probe within " + TimeUnit.NANOSECONDS.toSeconds(PROBE_TIMEOUT_NS) +
                    " s after " + report.messages + " messages (session connected: " + session.isConnected() + ")");
                reopen();
                return false;
            }
            if (poll() == 0)
            {
                LockSupport.parkNanos(100_000);
            }
        }
        if (probeResult != 0)
        {
            report.findings.add("probe answered " + probeResult + " after " + report.messages + " messages");
        }
        if (!owed.isEmpty())
        {
            report.findings.add(owed.size() + " requests never answered before message " + report.messages +
                ", e.g. correlation id " + owed.keySet().iterator().next());
            owed.clear();
        }
        return true;
    }

    public void close()
    {
        if (session != null)
        {
            final int length = HEADER + new SessionCloseEncoder().wrapAndApplyHeader(buffer, 0, header)
                .sessionId(sessionId).encodedLength();
            session.offer(buffer, 0, length);
        }
        CloseHelper.quietCloseAll(session, sessionReplies, control, controlReplies, link);
    }

    // ---------------------------------------------------------------- the session

    private void openSession()
    {
        openCorrelationId = nextCorrelationId++;
        openStatus = -1;
        CloseHelper.quietCloseAll(session, sessionReplies);
        sessionReplies = link.addReplySubscription(Protocol.newClientStreamId());
        session = link.addExclusiveRequestPublication(Protocol.newClientStreamId(), sessionReplies);
        final SessionOpenEncoder open = new SessionOpenEncoder().wrapAndApplyHeader(buffer, 0, header)
            .correlationId(openCorrelationId).protocolVersion(Protocol.VERSION).gpuIndex(0).memoryFraction(0)
            .memoryMb(64).replyStreamId(controlReplyStreamId).requestStreamId(session.streamId())
            .requestSessionId(session.sessionId()).sessionReplyStreamId(sessionReplies.streamId())
            .timestampMs(System.currentTimeMillis()).encrypt((short)0).reservationId(0)
            .putReservationKey(new byte[16], 0, 16).holdOnly((short)0).waitTicket(0).waitSinceMs(0).clientId(CLIENT_ID);
        open.putClientPublicKey(NOTHING, 0, 0);
        open.putAuthProof(NOTHING, 0, 0);
        open.putPadding(ControlClient.REFUSAL_ROOM, 0, ControlClient.REFUSAL_ROOM.length);
        final int length = HEADER + open.encodedLength();
        final long deadlineNs = System.nanoTime() + PROBE_TIMEOUT_NS;
        long resendAtNs = 0;
        while (openStatus < 0)
        {
            final long nowNs = System.nanoTime();
            if (nowNs > deadlineNs)
            {
                throw new IllegalStateException("the server did not open a session for the fuzzer at " + server);
            }
            if (nowNs > resendAtNs)
            {
                control.offer(buffer, 0, length);
                resendAtNs = nowNs + TimeUnit.SECONDS.toNanos(2);
            }
            poll();
            LockSupport.parkNanos(100_000);
        }
        if (openStatus != SessionStatus.OPENED.value())
        {
            throw new IllegalStateException("the server refused the fuzzer's session: status " + openStatus);
        }
        sessionId = openSessionId;
        while (!session.isConnected())
        {
            if (System.nanoTime() > deadlineNs)
            {
                throw new IllegalStateException("the fuzzer's session stream never connected");
            }
            poll();
            LockSupport.parkNanos(100_000);
        }
        report.sessionsOpened++;
        owed.clear();
        for (int i = 0; i < addresses.length; i++)
        {
            final long correlationId = nextCorrelationId++;
            probeCorrelationId = Long.MIN_VALUE;
            offer(session, HEADER + new MemAllocEncoder().wrapAndApplyHeader(buffer, 0, header)
                .correlationId(correlationId).bytes(4096L << i).encodedLength());
            while (probeCorrelationId != correlationId)
            {
                if (System.nanoTime() > deadlineNs)
                {
                    throw new IllegalStateException("the fuzzer's allocations were not answered");
                }
                poll();
            }
            addresses[i] = probeValue;
        }
    }

    private void reopen()
    {
        owed.clear();
        openSession();
    }

    private void expectAnswer(final int length)
    {
        bounds.check(buffer, 0, length);
        if (bounds.hasCorrelationId())
        {
            final long correlationId = bounds.correlationId();
            owed.put(correlationId, owed.get(correlationId) + 1);
            report.answersExpected++;
        }
    }

    private void offer(final ExclusivePublication publication, final int length)
    {
        final long deadlineNs = System.nanoTime() + PROBE_TIMEOUT_NS;
        long position;
        while ((position = publication.offer(buffer, 0, length)) < 0)
        {
            if (position == ExclusivePublication.CLOSED || position == ExclusivePublication.MAX_POSITION_EXCEEDED ||
                System.nanoTime() > deadlineNs)
            {
                report.findings.add("could not send after " + report.messages + " messages: offer " + position);
                if (publication == session)
                {
                    reopen();
                }
                return;
            }
            if (poll() == 0)
            {
                Thread.onSpinWait();
            }
        }
    }

    private int poll()
    {
        return controlReplies.poll(controlAssembler, 64) + sessionReplies.poll(sessionAssembler, 64);
    }

    private void onReply(final DirectBuffer message, final int offset, final int length, final io.aeron.logbuffer.Header frame)
    {
        if (bounds.check(message, offset, length) != MessageBounds.VALID)
        {
            report.findings.add("the server sent a malformed message: " + bounds.reason());
            return;
        }
        replyHeader.wrap(message, offset);
        switch (replyHeader.templateId())
        {
            case ResultDecoder.TEMPLATE_ID ->
            {
                result.wrapAndApplyHeader(message, offset, replyHeader);
                answered(result.correlationId());
                probeCorrelationId = result.correlationId();
                probeResult = result.result();
                probeValue = result.value1();
            }
            case FunctionInfoDecoder.TEMPLATE_ID ->
                answered(functionInfo.wrapAndApplyHeader(message, offset, replyHeader).correlationId());
            case AsyncErrorDecoder.TEMPLATE_ID -> report.asyncErrors++;
            case SessionOpenReplyDecoder.TEMPLATE_ID ->
            {
                openReply.wrapAndApplyHeader(message, offset, replyHeader);
                report.controlReplies++;
                if (openReply.correlationId() == openCorrelationId)
                {
                    openStatus = openReply.statusRaw();
                    openSessionId = openReply.sessionId();
                }
            }
            case GpuListDecoder.TEMPLATE_ID, HealthFactsDecoder.TEMPLATE_ID -> report.controlReplies++;
            default ->
            {
            }
        }
    }

    private void answered(final long correlationId)
    {
        final long count = owed.get(correlationId);
        if (count > 1)
        {
            owed.put(correlationId, count - 1);
        }
        else if (count == 1)
        {
            owed.remove(correlationId);
        }
        report.answered++;
    }

    // ---------------------------------------------------------------- hostile values

    private long anyLong()
    {
        return switch (random.nextInt(12))
        {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> Long.MAX_VALUE;
            case 3 -> Long.MIN_VALUE;
            case 4 -> random.nextInt(16);
            case 5 -> 1L << random.nextInt(63);
            case 6 -> Integer.MAX_VALUE + (long)random.nextInt(3);
            case 7, 8 -> address();
            case 9 -> address() + random.nextInt(-64, 1 << 20);
            default -> random.nextLong();
        };
    }

    private long address()
    {
        return addresses[random.nextInt(addresses.length)];
    }

    private long size()
    {
        return switch (random.nextInt(6))
        {
            case 0 -> anyLong();
            case 1 -> -random.nextInt(1, 1 << 20);
            default -> random.nextInt(0, 1 << 16);
        };
    }

    private long handle()
    {
        return random.nextInt(4) == 0 ? anyLong() : random.nextInt(8);
    }

    private int anyInt()
    {
        return switch (random.nextInt(8))
        {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> Integer.MAX_VALUE;
            case 3 -> Integer.MIN_VALUE;
            case 4, 5 -> random.nextInt(16);
            default -> random.nextInt();
        };
    }

    /**
     * A small dimension, sometimes hostile; never one that makes a launch of a trivial kernel run for hours on
     * the emulated GPU, which would stall the fuzzer's own session (its own tenant only), not find anything.
     */
    private int dimension()
    {
        return switch (random.nextInt(16))
        {
            case 0 -> -1;
            case 1 -> Integer.MIN_VALUE;
            case 2 -> 2048;
            default -> random.nextInt(0, 4);
        };
    }

    private byte[] bytes(final int max)
    {
        final byte[] bytes = new byte[random.nextInt(max + 1)];
        for (int i = 0; i < bytes.length; i++)
        {
            bytes[i] = (byte)random.nextInt(256);
        }
        return bytes;
    }

    private String text(final int max)
    {
        return switch (random.nextInt(4))
        {
            case 0 -> new String(bytes(max), StandardCharsets.ISO_8859_1);
            case 1 -> "k";
            default -> "k" + random.nextInt(4);
        };
    }

    // ---------------------------------------------------------------- messages

    /**
     * Replies go back on the path the request came by, to the fuzzer's own reply stream or to a stream nobody
     * reads: those are what the control rate limit and the reply sender bound (the system tests flood them).
     * A SessionOpen that names streams the fuzzer never publishes on opens nothing that lasts: the server
     * gives up on a session whose request stream does not come.
     */
    private int encodeControl(final int templateId)
    {
        final long correlationId = nextCorrelationId++;
        final int replyStreamId = random.nextBoolean() ? controlReplyStreamId : anyInt();
        return switch (templateId)
        {
            case SessionOpenDecoder.TEMPLATE_ID ->
            {
                final SessionOpenEncoder open = new SessionOpenEncoder().wrapAndApplyHeader(buffer, 0, header)
                    .correlationId(correlationId)
                    .protocolVersion(random.nextBoolean() ? Protocol.VERSION : anyInt())
                    .gpuIndex(dimension())
                    .memoryFraction(random.nextInt(4) == 0 ? Double.longBitsToDouble(random.nextLong()) : random.nextDouble())
                    .memoryMb(random.nextBoolean() ? random.nextInt(0, 8) : anyLong())
                    .replyStreamId(replyStreamId)
                    .requestStreamId(anyInt())
                    .requestSessionId(anyInt())
                    .sessionReplyStreamId(anyInt())
                    .timestampMs(random.nextBoolean() ? System.currentTimeMillis() : anyLong())
                    .encrypt((short)random.nextInt(3))
                    .reservationId(random.nextBoolean() ? 0 : anyLong())
                    .holdOnly((short)random.nextInt(3))
                    .waitTicket(random.nextBoolean() ? 0 : anyLong())
                    .waitSinceMs(anyLong())
                    .clientId(text(64));
                for (int i = 0; i < SessionOpenEncoder.reservationKeyLength(); i++)
                {
                    open.reservationKey(i, (short)random.nextInt(256));
                }
                putData(open::putClientPublicKey);
                putData(open::putAuthProof);
                putData(open::putPadding);
                yield HEADER + open.encodedLength();
            }
            case ListGpusDecoder.TEMPLATE_ID ->
            {
                final ListGpusEncoder list = new ListGpusEncoder().wrapAndApplyHeader(buffer, 0, header)
                    .correlationId(correlationId).replyStreamId(replyStreamId)
                    .timestampMs(random.nextBoolean() ? System.currentTimeMillis() : anyLong())
                    // A ticket that would wait in line only with a slice no GPU can hold: a fuzzed line would hold up
                    // the campaign's own legitimate runs, which is what a line is for; leaving it is fuzzed freely.
                    .waitTicket(random.nextBoolean() ? -Math.abs(anyLong()) : Math.abs(anyLong()))
                    .waitSinceMs(anyLong())
                    .waitMemoryFraction(Double.longBitsToDouble(random.nextLong()))
                    .waitMemoryMb(random.nextBoolean() ? Long.MAX_VALUE : -1 - Math.abs(random.nextLong() >> 1));
                putData(list::putAuthProof);
                list.clientTag(text(16));
                putData(list::putPadding);
                yield HEADER + list.encodedLength();
            }
            case HealthQueryDecoder.TEMPLATE_ID ->
            {
                final HealthQueryEncoder query = new HealthQueryEncoder().wrapAndApplyHeader(buffer, 0, header)
                    .correlationId(correlationId).protocolVersion(anyInt()).replyStreamId(replyStreamId)
                    .timestampMs(random.nextBoolean() ? System.currentTimeMillis() : anyLong());
                putData(query::putAuthProof);
                putData(query::putPadding);
                yield HEADER + query.encodedLength();
            }
            case SessionCloseDecoder.TEMPLATE_ID -> HEADER + new SessionCloseEncoder().wrapAndApplyHeader(buffer, 0, header)
                .sessionId(otherSessionId()).encodedLength();
            default -> HEADER + new MemAllocEncoder().wrapAndApplyHeader(buffer, 0, header)
                .correlationId(correlationId).bytes(size()).encodedLength();
        };
    }

    /**
     * A mutation may turn any message into a SessionClose (a changed template id) whose first field happens to be
     * the fuzzer's own session id: a close the server rightly obeys, which would end the run's session.
     */
    private void spareOwnSession(final int length)
    {
        replyHeader.wrap(buffer, 0);
        if (replyHeader.templateId() == SessionCloseDecoder.TEMPLATE_ID && length >= HEADER + Long.BYTES &&
            buffer.getLong(HEADER, ORDER) == sessionId)
        {
            buffer.putLong(HEADER, sessionId + 1, ORDER);
        }
    }

    /** A var data field of up to 64 random bytes, put by an encoder's {@code putX(byte[], int, int)}. */
    private void putData(final DataField field)
    {
        final byte[] data = bytes(64);
        field.put(data, 0, data.length);
    }

    @FunctionalInterface
    private interface DataField
    {
        Object put(byte[] data, int offset, int length);
    }

    /** The fuzzer never closes its own session on purpose: a session that ends is a finding. */
    private long otherSessionId()
    {
        final long id = anyLong();
        return id == sessionId ? id + 1 : id;
    }

    private int encodeSession(final int templateId)
    {
        final long correlationId = nextCorrelationId++;
        return switch (templateId)
        {
            case MemAllocDecoder.TEMPLATE_ID -> HEADER + new MemAllocEncoder().wrapAndApplyHeader(buffer, 0, header)
                .correlationId(correlationId).bytes(random.nextInt(4) == 0 ? anyLong() : random.nextInt(1, 4096))
                .encodedLength();
            case MemFreeDecoder.TEMPLATE_ID -> HEADER + new MemFreeEncoder().wrapAndApplyHeader(buffer, 0, header)
                .deviceAddress(random.nextInt(4) == 0 ? address() : anyLong()).encodedLength();
            case MemGetInfoDecoder.TEMPLATE_ID -> HEADER + new MemGetInfoEncoder().wrapAndApplyHeader(buffer, 0, header)
                .correlationId(correlationId).encodedLength();
            case MemcpyHtoDChunkDecoder.TEMPLATE_ID ->
            {
                final byte[] data = bytes(random.nextInt(8) == 0 ? 64 * 1024 : 256);
                yield HEADER + new MemcpyHtoDChunkEncoder().wrapAndApplyHeader(buffer, 0, header)
                    .streamHandle(handle()).deviceAddress(anyLong()).putData(data, 0, data.length).encodedLength();
            }
            case MemcpyDtoHDecoder.TEMPLATE_ID -> HEADER + new MemcpyDtoHEncoder().wrapAndApplyHeader(buffer, 0, header)
                .correlationId(correlationId).streamHandle(handle()).deviceAddress(anyLong()).bytes(size())
                .encodedLength();
            case MemcpyDtoDDecoder.TEMPLATE_ID -> HEADER + new MemcpyDtoDEncoder().wrapAndApplyHeader(buffer, 0, header)
                .streamHandle(handle()).dstDeviceAddress(anyLong()).srcDeviceAddress(anyLong()).bytes(size())
                .encodedLength();
            case MemsetDecoder.TEMPLATE_ID -> HEADER + new MemsetEncoder().wrapAndApplyHeader(buffer, 0, header)
                .streamHandle(handle()).deviceAddress(anyLong()).value(anyInt())
                .elementSize(random.nextBoolean() ? 1 << random.nextInt(3) : anyInt())
                .width(size()).height(random.nextBoolean() ? 1 : size()).pitch(size()).encodedLength();
            case ContextCreateDecoder.TEMPLATE_ID -> HEADER + new ContextCreateEncoder()
                .wrapAndApplyHeader(buffer, 0, header).contextHandle(handle()).flags(anyInt()).encodedLength();
            case ContextDestroyDecoder.TEMPLATE_ID -> HEADER + new ContextDestroyEncoder()
                .wrapAndApplyHeader(buffer, 0, header).contextHandle(handle()).encodedLength();
            case SynchronizeDecoder.TEMPLATE_ID ->
            {
                final int length = HEADER + new SynchronizeEncoder().wrapAndApplyHeader(buffer, 0, header)
                    .correlationId(correlationId).kind(SyncKind.CONTEXT_SYNCHRONIZE).handle(handle()).encodedLength();
                buffer.putInt(HEADER + SynchronizeEncoder.kindEncodingOffset(),
                    random.nextBoolean() ? random.nextInt(1, 6) : anyInt(), ORDER);
                yield length;
            }
            case StreamCreateDecoder.TEMPLATE_ID -> HEADER + new StreamCreateEncoder().wrapAndApplyHeader(buffer, 0, header)
                .streamHandle(handle()).contextHandle(handle()).flags(anyInt()).priority(anyInt()).encodedLength();
            case StreamDestroyDecoder.TEMPLATE_ID -> HEADER + new StreamDestroyEncoder()
                .wrapAndApplyHeader(buffer, 0, header).streamHandle(handle()).encodedLength();
            case StreamWaitEventDecoder.TEMPLATE_ID -> HEADER + new StreamWaitEventEncoder()
                .wrapAndApplyHeader(buffer, 0, header).streamHandle(handle()).eventHandle(handle()).encodedLength();
            case EventCreateDecoder.TEMPLATE_ID -> HEADER + new EventCreateEncoder().wrapAndApplyHeader(buffer, 0, header)
                .eventHandle(handle()).contextHandle(handle()).flags(anyInt()).encodedLength();
            case EventRecordDecoder.TEMPLATE_ID -> HEADER + new EventRecordEncoder().wrapAndApplyHeader(buffer, 0, header)
                .eventHandle(handle()).streamHandle(handle()).encodedLength();
            case EventDestroyDecoder.TEMPLATE_ID -> HEADER + new EventDestroyEncoder()
                .wrapAndApplyHeader(buffer, 0, header).eventHandle(handle()).encodedLength();
            case EventElapsedTimeDecoder.TEMPLATE_ID -> HEADER + new EventElapsedTimeEncoder()
                .wrapAndApplyHeader(buffer, 0, header).correlationId(correlationId).startEventHandle(handle())
                .endEventHandle(handle()).encodedLength();
            case ModuleImageChunkDecoder.TEMPLATE_ID ->
            {
                final byte[] image = random.nextBoolean() ? mutatedPtx() : bytes(512);
                final boolean whole = random.nextInt(3) > 0;
                yield HEADER + new ModuleImageChunkEncoder().wrapAndApplyHeader(buffer, 0, header)
                    .moduleHandle(handle()).byteOffset(whole ? 0 : size())
                    .totalBytes(whole ? image.length : size()).putData(image, 0, image.length).encodedLength();
            }
            case ModuleLoadDecoder.TEMPLATE_ID -> HEADER + new ModuleLoadEncoder().wrapAndApplyHeader(buffer, 0, header)
                .correlationId(correlationId).moduleHandle(handle()).contextHandle(handle()).encodedLength();
            case ModuleUnloadDecoder.TEMPLATE_ID -> HEADER + new ModuleUnloadEncoder()
                .wrapAndApplyHeader(buffer, 0, header).moduleHandle(handle()).encodedLength();
            case ModuleGetFunctionDecoder.TEMPLATE_ID -> HEADER + new ModuleGetFunctionEncoder()
                .wrapAndApplyHeader(buffer, 0, header).correlationId(correlationId).moduleHandle(handle())
                .functionHandle(handle()).name(text(128)).encodedLength();
            case ModuleGetGlobalDecoder.TEMPLATE_ID -> HEADER + new ModuleGetGlobalEncoder()
                .wrapAndApplyHeader(buffer, 0, header).correlationId(correlationId).moduleHandle(handle())
                .name(text(128)).encodedLength();
            case FunctionGetAttributeDecoder.TEMPLATE_ID -> HEADER + new FunctionGetAttributeEncoder()
                .wrapAndApplyHeader(buffer, 0, header).correlationId(correlationId).functionHandle(handle())
                .attribute(anyInt()).encodedLength();
            case FunctionSetAttributeDecoder.TEMPLATE_ID -> HEADER + new FunctionSetAttributeEncoder()
                .wrapAndApplyHeader(buffer, 0, header).correlationId(correlationId).functionHandle(handle())
                .attribute(anyInt()).value(anyInt()).encodedLength();
            case ContextLimitDecoder.TEMPLATE_ID -> HEADER + new ContextLimitEncoder()
                .wrapAndApplyHeader(buffer, 0, header).correlationId(correlationId).cuLimit(anyInt())
                .set(random.nextInt(3)).value(random.nextBoolean() ? size() : 0).encodedLength();
            case TensorMapEncodeDecoder.TEMPLATE_ID ->
            {
                final TensorMapEncodeEncoder encoder = new TensorMapEncodeEncoder().wrapAndApplyHeader(buffer, 0, header)
                    .correlationId(correlationId);
                final int length = HEADER + encoder.encodedLength();
                final int arguments = HEADER + TensorMapEncodeEncoder.argumentsEncodingOffset();
                for (int i = 0; i < TensorMapArgumentsEncoder.ENCODED_LENGTH; i += 8)
                {
                    buffer.putLong(arguments + i, random.nextInt(3) == 0 ? anyLong() : random.nextInt(8), ORDER);
                }
                buffer.putInt(arguments, random.nextBoolean() ? random.nextInt(3) : anyInt(), ORDER);
                if (random.nextBoolean())
                {
                    buffer.putLong(arguments + TensorMapArgumentsEncoder.globalAddressEncodingOffset(), address(), ORDER);
                }
                yield length;
            }
            case ClusterOccupancyDecoder.TEMPLATE_ID -> HEADER + new ClusterOccupancyEncoder()
                .wrapAndApplyHeader(buffer, 0, header).correlationId(correlationId).functionHandle(handle())
                .query(random.nextInt(3)).gridX(dimension()).gridY(dimension()).gridZ(dimension())
                .blockX(dimension()).blockY(dimension()).blockZ(dimension()).sharedMemBytes(anyInt())
                .clusterX(dimension()).clusterY(dimension()).clusterZ(dimension()).encodedLength();
            case LaunchKernelDecoder.TEMPLATE_ID ->
            {
                final byte[] parameters = bytes(64);
                yield HEADER + new LaunchKernelEncoder().wrapAndApplyHeader(buffer, 0, header)
                    .functionHandle(handle()).streamHandle(handle())
                    .gridX(dimension()).gridY(dimension()).gridZ(dimension())
                    .blockX(dimension()).blockY(dimension()).blockZ(dimension()).sharedMemBytes(anyInt())
                    .clusterX(dimension()).clusterY(dimension()).clusterZ(dimension())
                    .putParameters(parameters, 0, parameters.length).encodedLength();
            }
            case SessionCloseDecoder.TEMPLATE_ID -> HEADER + new SessionCloseEncoder()
                .wrapAndApplyHeader(buffer, 0, header).sessionId(otherSessionId()).encodedLength();
            case ResultDecoder.TEMPLATE_ID -> HEADER + new ResultEncoder().wrapAndApplyHeader(buffer, 0, header)
                .correlationId(correlationId).result(anyInt()).message(text(32)).encodedLength();
            case SessionOpenDecoder.TEMPLATE_ID, ListGpusDecoder.TEMPLATE_ID -> encodeControl(templateId);
            default -> throw new IllegalStateException("no encoder for template " + templateId);
        };
    }

    private byte[] mutatedPtx()
    {
        final byte[] ptx = PTX.clone();
        for (int i = random.nextInt(4); i > 0; i--)
        {
            ptx[random.nextInt(ptx.length)] = (byte)random.nextInt(32, 127);
        }
        return random.nextBoolean() ? ptx : java.util.Arrays.copyOf(ptx, random.nextInt(ptx.length + 1));
    }

    /**
     * Spoil an encoded message, or not (half of them stay well formed and reach the handlers).
     *
     * @return the length to send.
     */
    private int mutate(final int length)
    {
        return switch (random.nextInt(16))
        {
            case 0, 1 -> random.nextInt(length + 1);
            case 2 ->
            {
                buffer.putShort(0, (short)random.nextInt(1 << 16), ORDER);
                yield length;
            }
            case 3 ->
            {
                buffer.putShort(2, (short)random.nextInt(1 << 16), ORDER);
                yield length;
            }
            case 4 ->
            {
                buffer.putShort(4, (short)random.nextInt(1 << 16), ORDER);
                yield length;
            }
            case 5, 6 ->
            {
                // A length or count: the first var data or group header sits right after the block.
                replyHeader.wrap(buffer, 0);
                final int field = HEADER + replyHeader.blockLength();
                if (field + 4 <= length)
                {
                    buffer.putInt(field, switch (random.nextInt(5))
                    {
                        case 0 -> Integer.MAX_VALUE - random.nextInt(16);
                        case 1 -> -random.nextInt(1, 17);
                        case 2 -> 1 << 30;
                        default -> random.nextInt();
                    }, ORDER);
                }
                yield length;
            }
            case 7 ->
            {
                for (int i = random.nextInt(1, 5); i > 0 && length > 0; i--)
                {
                    buffer.putByte(random.nextInt(length), (byte)random.nextInt(256));
                }
                yield length;
            }
            case 8 ->
            {
                final int extra = random.nextInt(64);
                buffer.setMemory(length, extra, (byte)random.nextInt(256));
                yield length + extra;
            }
            default -> length;
        };
    }
}
