package dev.bitfusion.server;

import dev.bitfusion.server.backend.emulated.EmulatedBackend;
import dev.bitfusion.server.status.ServerCounters;
import dev.bitfusion.server.status.TrafficCounters;
import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.auth.Credentials;
import dev.bitfusion.transport.auth.Handshakes;
import dev.bitfusion.transport.protocol.*;
import io.aeron.Aeron;
import io.aeron.Counter;
import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.CompositeAgent;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.server.IpcFixture.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The control stream's wire classes together ({@link ControlAdapter}, {@link SessionAdmission},
 * {@link ControlReplyProxy}, {@link ControlReplySender}) over an embedded media driver's IPC streams, with the
 * emulated GPU; the test is the client.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ControlAdapterTest
{
    private static final long LIVENESS_NS = TimeUnit.SECONDS.toNanos(2);
    private static final int CONTROL_STREAM = Protocol.CONTROL_STREAM_ID;
    private static final int SESSION_STREAM = Protocol.FIRST_CLIENT_STREAM_ID + 5;
    private static final int REPLY_STREAM = 4_001;
    private static final long GPU_BYTES = 64 << 20;
    private static final String HOSTNAME = "gpu-host-7";

    private final EmulatedBackend backend = new EmulatedBackend(1, GPU_BYTES);
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private final ServerErrorLog errorLog = new ServerErrorLog(new PrintStream(log, true, StandardCharsets.UTF_8));
    private final UnsafeBuffer request = new UnsafeBuffer(new byte[16 * 1024]);
    private final MessageHeaderEncoder header = new MessageHeaderEncoder();
    private final MessageHeaderDecoder replyHeader = new MessageHeaderDecoder();
    private AeronTransport transport;
    private TrafficCounters gpuCounters;
    private Counter dropped;
    private SessionRegistry registry;
    private ControlAdapter adapter;
    private ControlReplySender sender;
    private CompositeAgent control;
    private AgentRunner controlRunner;
    private final Endpoint udpEndpoint = new Endpoint("127.0.0.1", freeUdpPort());
    private final List<UnsafeBuffer> seenLists = new ArrayList<>();
    private ExclusivePublication controlRequests;
    private Subscription replies;
    private Received received;

    @BeforeEach
    void open()
    {
        open(TokenAuthenticator.acceptAll());
    }

    private void open(final TokenAuthenticator authenticator)
    {
        if (transport != null)
        {
            close();
        }
        transport = launchTransport(LIVENESS_NS);
        final Aeron aeron = transport.aeron();
        final GpuServer.Context context = new GpuServer.Context()
            .backend(backend)
            .errorLog(errorLog)
            .authenticator(authenticator)
            .endpoint(udpEndpoint)
            .hostname(HOSTNAME)
            .transportSettings(transport.settings());
        gpuCounters = TrafficCounters.forGpu(aeron, 0);
        dropped = ServerCounters.controlRepliesDropped(aeron);
        registry = new SessionRegistry(backend.gpus());
        sender = new ControlReplySender(aeron, errorLog, dropped, LIVENESS_NS);
        final ControlReplyProxy proxy = new ControlReplyProxy(sender);
        final SessionAdmission admission =
            new SessionAdmission(context, aeron, registry, List.of(gpuCounters), proxy, REQUEST_CHANNEL, REQUEST_CHANNEL);
        adapter = new ControlAdapter(context, aeron,
            aeron.addSubscription(ChannelUris.udp(udpEndpoint, transport.settings()), CONTROL_STREAM),
            aeron.addSubscription(REQUEST_CHANNEL, CONTROL_STREAM),
            admission, proxy, registry, sender::send, (why) -> fail("the transport closed: " + why));
        control = new CompositeAgent(adapter, sender);
        controlRequests = aeron.addExclusivePublication(REQUEST_CHANNEL, CONTROL_STREAM);
        replies = aeron.addSubscription(REPLY_CHANNEL, REPLY_STREAM);
        received = new Received(replies);
    }

    @AfterEach
    void close()
    {
        if (controlRunner != null)
        {
            controlRunner.close();
            controlRunner = null;
        }
        else
        {
            control.onClose();
        }
        registry.closeAll(TimeUnit.SECONDS.toNanos(5));
        CloseHelper.closeAll(controlRequests, replies, gpuCounters, dropped, transport);
        transport = null;
    }

    @Test
    void shouldListTheGpusWhenAskedOverIpc()
    {
        send(controlRequests, listGpus(11));
        await(this::turn, () -> received.count(GpuListDecoder.TEMPLATE_ID) == 1, "the listing");

        final GpuListDecoder list =
            new GpuListDecoder().wrapAndApplyHeader(received.last(GpuListDecoder.TEMPLATE_ID), 0, replyHeader);
        assertEquals(11, list.correlationId());
        assertEquals(Protocol.VERSION, list.protocolVersion());
        assertEquals(0, list.openSessions());
        final GpuListDecoder.GpusDecoder gpus = list.gpus();
        assertEquals(1, gpus.count());
        gpus.next();
        assertEquals(GPU_BYTES, gpus.totalBytes());
        assertEquals(GPU_BYTES, gpus.unreservedBytes());
        assertEquals(0, gpus.slices().count());
        assertEquals(EmulatedBackend.DEVICE_NAME, gpus.name());
        assertEquals("emulated", list.backend());
        assertEquals("", list.message());
        assertEquals(HOSTNAME, list.hostname());
        assertEquals("13.0", list.cudaVersion());
        assertEquals(EmulatedBackend.DRIVER_VERSION, list.driverVersion());
    }

    @Test
    void shouldWriteTheCudaVersionAsMajorDotMinor()
    {
        assertEquals("12.4", ControlReplyProxy.cudaVersionText(12040));
        assertEquals("13.0", ControlReplyProxy.cudaVersionText(13000));
        assertEquals("11.8", ControlReplyProxy.cudaVersionText(11080));
        assertEquals("", ControlReplyProxy.cudaVersionText(-1));
    }

    @Test
    void shouldRefuseASessionOfAnotherProtocolVersionWithTheReason()
    {
        send(controlRequests, sessionOpen(12, Protocol.VERSION - 1, 16));

        final SessionOpenReplyDecoder reply = awaitOpenReply();
        assertEquals(12, reply.correlationId());
        assertEquals(SessionStatus.PROTOCOL_MISMATCH, reply.status());
        skipAttributes(reply);
        assertTrue(reply.message().contains("does not match server version " + Protocol.VERSION));
    }

    @Test
    void shouldTellAClientOfTheVersionBeforeTheVersionsDifferThoughItsSessionOpenIsShorter()
    {
        // Version 3's SessionOpen: the block without the encrypt flag, its last byte, and the rest as it is.
        final int length = sessionOpen(14, Protocol.VERSION - 1, 16);
        final int blockEnd = MessageHeaderEncoder.ENCODED_LENGTH + SessionOpenEncoder.BLOCK_LENGTH;
        final byte[] varData = new byte[length - blockEnd];
        request.getBytes(blockEnd, varData);
        request.putBytes(blockEnd - 1, varData);
        header.wrap(request, 0).blockLength(SessionOpenEncoder.BLOCK_LENGTH - 1).version(Protocol.VERSION - 1);
        send(controlRequests, length - 1);

        final SessionOpenReplyDecoder reply = awaitOpenReply();
        assertEquals(14, reply.correlationId());
        assertEquals(SessionStatus.PROTOCOL_MISMATCH, reply.status());
        skipAttributes(reply);
        final String message = reply.message();
        assertTrue(message.contains("does not match server version " + Protocol.VERSION), message);
    }

    @Test
    void shouldRefuseASliceThatDoesNotFitWithTheReason()
    {
        send(controlRequests, sessionOpen(13, Protocol.VERSION, (GPU_BYTES >> 20) + 1));

        final SessionOpenReplyDecoder reply = awaitOpenReply();
        assertEquals(SessionStatus.SLICE_UNAVAILABLE, reply.status());
        skipAttributes(reply);
        assertTrue(reply.message().contains("does not fit"));
        assertEquals(GPU_BYTES, registry.ledger(0).unreservedBytes(), "nothing left reserved");
    }

    @Test
    void shouldOpenASessionThatHearsOnlyItsOpenersPublicationAndEndsWhenClosed()
    {
        try (ExclusivePublication sessionRequests =
                transport.aeron().addExclusivePublication(REQUEST_CHANNEL, SESSION_STREAM);
            ExclusivePublication rogue = transport.aeron().addExclusivePublication(REQUEST_CHANNEL, SESSION_STREAM))
        {
            send(controlRequests, sessionOpen(14, Protocol.VERSION, 16, sessionRequests.sessionId()));

            final SessionOpenReplyDecoder reply = awaitOpenReply();
            assertEquals(SessionStatus.OPENED, reply.status());
            assertEquals(SESSION_STREAM, reply.requestStreamId());
            assertEquals(16 << 20, reply.sliceBytes());
            assertEquals(1, registry.size());
            assertEquals(GPU_BYTES - (16 << 20), registry.ledger(0).unreservedBytes());
            assertListedSlice(reply.sessionId());

            final int close = MessageHeaderEncoder.ENCODED_LENGTH + new SessionCloseEncoder()
                .wrapAndApplyHeader(request, 0, header).sessionId(reply.sessionId()).encodedLength();
            for (int i = 0; i < 1000; i++)
            {
                turn();
                rogue.offer(request, 0, close);
            }
            assertFalse(rogue.isConnected(), "a publication the opener did not name is not heard");
            assertEquals(1, registry.size(), "a stranger's SessionClose ended nothing");

            send(sessionRequests, close);
            await(this::turn, () -> registry.size() == 0, "the session to end");
        }
        assertEquals(GPU_BYTES, registry.ledger(0).unreservedBytes(), "the slice returned");
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("ended: closed by client"), log::toString);
    }

    @Test
    void shouldAnswerAUdpRequestOnThePathItCameBy()
    {
        final Aeron aeron = transport.aeron();
        try (Subscription udpReplies = aeron.addSubscription(ChannelUris.udpReplies(udpEndpoint), REPLY_STREAM);
            ExclusivePublication udpRequests = aeron.addExclusivePublication(
                ChannelUris.udpRequests(udpEndpoint, transport.settings(), udpReplies.registrationId()), CONTROL_STREAM))
        {
            final Received overUdp = new Received(udpReplies);
            send(udpRequests, listGpus(15));
            await(() ->
            {
                turn();
                overUdp.poll();
            }, () -> overUdp.count(GpuListDecoder.TEMPLATE_ID) == 1, "the listing over UDP");
            assertEquals(15, new GpuListDecoder()
                .wrapAndApplyHeader(overUdp.last(GpuListDecoder.TEMPLATE_ID), 0, replyHeader).correlationId());
            assertEquals(0, received.messages.size(), "nothing went anywhere else");
        }
    }

    @Test
    void shouldRefuseAStrangerInNoMoreBytesThanItSentAndShowClientIdsOnlyToTheAdministrator()
    {
        open(authenticator("s3cret", "adm1n"));
        try (ExclusivePublication sessionRequests =
            transport.aeron().addExclusivePublication(REQUEST_CHANNEL, SESSION_STREAM))
        {
            final int strangerLength = listGpus(21);
            send(controlRequests, strangerLength);
            final GpuListDecoder refusal = awaitList(21);
            assertEquals(SessionStatus.AUTH_REFUSED, refusal.status());
            assertTrue(received.last(GpuListDecoder.TEMPLATE_ID).capacity() <= strangerLength,
                "a refusal of " + received.last(GpuListDecoder.TEMPLATE_ID).capacity() + " bytes to a request of " +
                strangerLength);

            send(controlRequests, sessionOpen(22, Protocol.VERSION, 16, sessionRequests.sessionId()));
            assertEquals(SessionStatus.AUTH_REFUSED, awaitOpenReply().status());
            assertEquals(0, registry.size());
        }

        // A tenant's session, opened with the token, then listed by the tenant and by the administrator.
        final Credentials tenant = Credentials.ofToken("s3cret");
        final Credentials admin = Credentials.ofToken("adm1n");
        send(controlRequests, listGpus(23, tenant, System.currentTimeMillis()));
        assertEquals(SessionStatus.OPENED, awaitList(23).status());
        send(controlRequests, listGpus(24, admin, System.currentTimeMillis()));
        final GpuListDecoder adminList = awaitList(24);
        assertEquals(SessionStatus.OPENED, adminList.status());
        assertEquals(1, adminList.clientIdsShown());

        final int replayed = listGpus(23, tenant, System.currentTimeMillis());
        send(controlRequests, replayed);
        final GpuListDecoder replay = awaitList(23);
        assertEquals(SessionStatus.AUTH_REFUSED, replay.status(), "the same request again is a replay");
        send(controlRequests, listGpus(25, tenant, System.currentTimeMillis() - 2 * Handshakes.MAX_CLOCK_SKEW_MS));
        assertEquals(SessionStatus.AUTH_REFUSED, awaitList(25).status(), "a stale proof");
    }

    @Test
    void shouldStayBoundedUnderAFloodOfListGpus()
    {
        controlRunner = new AgentRunner(new BackoffIdleStrategy(), errorLog, null, control);
        AgentRunner.startOnThread(controlRunner);
        final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        final int threadsBefore = threads.getThreadCount();
        final int requests = 20_000;

        int mostThreads = threadsBefore;
        final int length = listGpus(0);
        for (int i = 1; i <= requests; i++)
        {
            new ListGpusEncoder().wrapAndApplyHeader(request, 0, header).correlationId(i);
            while (controlRequests.offer(request, 0, length) < 0)
            {
                received.poll();
            }
            received.poll();
            mostThreads = Math.max(mostThreads, threads.getThreadCount());
        }
        await(received::poll,
            () -> received.count(GpuListDecoder.TEMPLATE_ID) + dropped.get() + limitedRequests() == requests,
            "every listing answered, or counted as dropped or past the rate limit");

        assertTrue(mostThreads <= threadsBefore + 2, "threads: " + threadsBefore + " before, " + mostThreads + " at most");
        assertTrue(received.count(GpuListDecoder.TEMPLATE_ID) >= GpuServer.Context.CONTROL_BURST_DEFAULT);
        assertTrue(limitedRequests() > requests / 2, "limited: " + limitedRequests());
    }

    @Test
    void shouldAnswerOtherSourcesWhileOneFloods()
    {
        final int length = listGpus(0);
        for (int i = 1; i <= 1000; i++)
        {
            new ListGpusEncoder().wrapAndApplyHeader(request, 0, header).correlationId(i);
            send(controlRequests, length);
        }
        await(this::turn, () -> limitedRequests() > 0, "the flood limited");

        try (ExclusivePublication other = transport.aeron().addExclusivePublication(REQUEST_CHANNEL, CONTROL_STREAM))
        {
            send(other, listGpus(5_000));
            await(this::turn, () ->
            {
                final UnsafeBuffer last = received.last(GpuListDecoder.TEMPLATE_ID);
                return last != null && new GpuListDecoder().wrapAndApplyHeader(last, 0, replyHeader).correlationId() == 5_000;
            }, "the other source's listing");
        }
    }

    @Test
    void shouldRefuseASessionOpenWhoseClientIdIsLongerThanTheSchemaAllows()
    {
        // The encoder refuses what the schema does not allow, so the hostile string is written by hand.
        new SessionOpenEncoder().wrapAndApplyHeader(request, 0, header)
            .correlationId(21).protocolVersion(Protocol.VERSION).gpuIndex(0).memoryFraction(0).memoryMb(16)
            .replyStreamId(REPLY_STREAM);
        final java.nio.ByteOrder order = java.nio.ByteOrder.LITTLE_ENDIAN;
        int limit = MessageHeaderEncoder.ENCODED_LENGTH + SessionOpenEncoder.BLOCK_LENGTH;
        request.putInt(limit, 5000, order);
        request.setMemory(limit + 4, 5000, (byte)'x');
        limit += 4 + 5000;
        // The client's public key, its proof and the padding: empty.
        for (int i = 0; i < 3; i++)
        {
            request.putInt(limit, 0, order);
            limit += 4;
        }
        send(controlRequests, limit);

        final SessionOpenReplyDecoder reply = awaitOpenReply();
        assertEquals(21, reply.correlationId());
        assertEquals(SessionStatus.BAD_REQUEST, reply.status());
        skipAttributes(reply);
        final String message = reply.message();
        assertTrue(message.contains("SessionOpen.clientId: 5000 bytes"), message);
        assertEquals(0, registry.size());
    }

    @Test
    void shouldIgnoreASessionOpenWhoseLengthsOverflowWithoutReadingThem()
    {
        for (final int hostileLength : new int[]{ Integer.MAX_VALUE - 8, -1, 1 << 20 })
        {
            final int length = sessionOpen(22, Protocol.VERSION, 16);
            request.putInt(MessageHeaderEncoder.ENCODED_LENGTH + SessionOpenEncoder.BLOCK_LENGTH, hostileLength,
                java.nio.ByteOrder.LITTLE_ENDIAN);
            final long errorsBefore = errorLog.errorCount();
            send(controlRequests, length);
            await(this::turn, () -> errorLog.errorCount() > errorsBefore, "the request ignored");
        }
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("SessionOpen.clientId: data of"), log::toString);
        assertEquals(0, registry.size());
        assertEquals(0, received.messages.size());
    }

    private long limitedRequests()
    {
        final long[] limited = new long[1];
        transport.aeron().countersReader().forEach((counterId, typeId, key, label) ->
        {
            if (typeId == ServerCounters.CONTROL_REQUESTS_LIMITED_TYPE_ID)
            {
                limited[0] = transport.aeron().countersReader().getCounterValue(counterId);
            }
        });
        return limited[0];
    }

    /**
     * @return a UDP port free now, whose next one is free too (the server's replies leave from it).
     */
    private static int freeUdpPort()
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            try (DatagramSocket socket = new DatagramSocket(0);
                DatagramSocket next = new DatagramSocket(socket.getLocalPort() + 1))
            {
                return socket.getLocalPort();
            }
            catch (final SocketException | IllegalArgumentException ex)
            {
                // That port's neighbour is taken or out of range: try another.
            }
        }
        throw new IllegalStateException("no two neighbouring free UDP ports");
    }

    private void turn()
    {
        adapter.doWork();
        sender.doWork();
        received.poll();
    }

    private void send(final ExclusivePublication publication, final int length)
    {
        await(this::turn, () -> publication.offer(request, 0, length) > 0, "room to send a request");
    }

    /**
     * @return the encoded length, header included, of a ListGpus without a proof.
     */
    private int listGpus(final long correlationId)
    {
        return listGpus(correlationId, Credentials.none(), 0);
    }

    private int listGpus(final long correlationId, final Credentials credentials, final long timestampMs)
    {
        final byte[] proof =
            credentials.prove(Handshakes.listGpus(correlationId, REPLY_STREAM, timestampMs, 0, 0, 0, 0));
        final byte[] padding = new byte[192];
        return MessageHeaderEncoder.ENCODED_LENGTH + new ListGpusEncoder().wrapAndApplyHeader(request, 0, header)
            .correlationId(correlationId)
            .replyStreamId(REPLY_STREAM)
            .timestampMs(timestampMs)
            .waitTicket(0)
            .waitSinceMs(0)
            .waitMemoryFraction(0)
            .waitMemoryMb(0)
            .putAuthProof(proof, 0, proof.length)
            .clientTag("")
            .putPadding(padding, 0, padding.length)
            .encodedLength();
    }

    /** The session's slice as a listing shows it: one session, held since just now, no calls yet. */
    private void assertListedSlice(final long sessionId)
    {
        send(controlRequests, listGpus(17));
        final GpuListDecoder.GpusDecoder gpus = awaitList(17).gpus();
        gpus.next();
        final GpuListDecoder.GpusDecoder.SlicesDecoder slices = gpus.slices();
        assertEquals(1, slices.count());
        slices.next();
        assertEquals(sessionId, slices.sessionId());
        assertEquals(16 << 20, slices.sliceBytes());
        assertEquals(1, slices.sessions());
        assertTrue(slices.ageMs() >= 0 && slices.ageMs() < TimeUnit.SECONDS.toMillis(30), "age " + slices.ageMs());
        assertEquals(0, slices.calls());
        assertTrue(slices.bytes() >= 0);
    }

    private GpuListDecoder awaitList(final long correlationId)
    {
        await(this::turn, () -> received.messages.stream().anyMatch(message -> message.getShort(2) ==
            GpuListDecoder.TEMPLATE_ID && message.getLong(MessageHeaderDecoder.ENCODED_LENGTH) == correlationId &&
            !seen(message)), "the listing " + correlationId);
        final UnsafeBuffer message = received.messages.stream().filter(m -> m.getShort(2) == GpuListDecoder.TEMPLATE_ID &&
            m.getLong(MessageHeaderDecoder.ENCODED_LENGTH) == correlationId && !seen(m)).findFirst().orElseThrow();
        seenLists.add(message);
        return new GpuListDecoder().wrapAndApplyHeader(message, 0, replyHeader);
    }

    private boolean seen(final UnsafeBuffer message)
    {
        return seenLists.stream().anyMatch(seen -> seen == message);
    }

    private int sessionOpen(final long correlationId, final int protocolVersion, final long memoryMb)
    {
        return sessionOpen(correlationId, protocolVersion, memoryMb, 0);
    }

    private int sessionOpen(
        final long correlationId, final int protocolVersion, final long memoryMb, final int requestSessionId)
    {
        final SessionOpenEncoder encoder = new SessionOpenEncoder().wrapAndApplyHeader(request, 0, header)
            .correlationId(correlationId)
            .protocolVersion(protocolVersion)
            .gpuIndex(0)
            .memoryFraction(0)
            .memoryMb(memoryMb)
            .replyStreamId(REPLY_STREAM)
            .requestStreamId(SESSION_STREAM)
            .requestSessionId(requestSessionId)
            .sessionReplyStreamId(REPLY_STREAM)
            .timestampMs(System.currentTimeMillis())
            .encrypt((short)0)
            .reservationId(0)
            .putReservationKey(new byte[16], 0, 16)
            .holdOnly((short)0)
            .waitTicket(0)
            .waitSinceMs(0)
            .clientId("test-client");
        encoder.putClientPublicKey(new byte[0], 0, 0);
        encoder.putAuthProof(new byte[0], 0, 0);
        encoder.putPadding(new byte[192], 0, 192);
        return MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength();
    }

    private static TokenAuthenticator authenticator(final String token, final String adminToken)
    {
        try
        {
            final Path tokenFile = Files.createTempFile("token", "");
            final Path adminFile = Files.createTempFile("admin-token", "");
            Files.writeString(tokenFile, token);
            Files.writeString(adminFile, adminToken);
            final TokenAuthenticator authenticator = TokenAuthenticator.fromFiles(tokenFile, adminFile);
            Files.delete(tokenFile);
            Files.delete(adminFile);
            return authenticator;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    private SessionOpenReplyDecoder awaitOpenReply()
    {
        await(this::turn, () -> received.count(SessionOpenReplyDecoder.TEMPLATE_ID) == 1, "the session open reply");
        return new SessionOpenReplyDecoder()
            .wrapAndApplyHeader(received.last(SessionOpenReplyDecoder.TEMPLATE_ID), 0, replyHeader);
    }

    /** The reason comes after the attributes and the device name, which a refusal leaves empty. */
    private static void skipAttributes(final SessionOpenReplyDecoder reply)
    {
        final SessionOpenReplyDecoder.AttributesDecoder attributes = reply.attributes();
        assertEquals(0, attributes.count());
        assertEquals("", reply.deviceName());
    }
}
