package dev.bitfusion.server.health;

import dev.bitfusion.health.HealthThresholds;
import dev.bitfusion.health.host.CommandResult;
import dev.bitfusion.health.host.HostView;
import dev.bitfusion.health.host.JavaNetworkView;
import dev.bitfusion.server.GpuServer;
import dev.bitfusion.server.ServerErrorLog;
import dev.bitfusion.server.TokenAuthenticator;
import dev.bitfusion.server.backend.emulated.EmulatedBackend;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.auth.Credentials;
import dev.bitfusion.transport.auth.Handshakes;
import dev.bitfusion.transport.protocol.HealthFactsDecoder;
import dev.bitfusion.transport.protocol.HealthQueryEncoder;
import dev.bitfusion.transport.protocol.MessageHeaderDecoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HealthResponderTest
{
    private static final long HOST_MEMORY_KIB = 65_536_000;

    @TempDir
    Path root;

    private Path tokenFile;

    private static final int REPLY_STREAM = 7;
    private static final String CLIENT_ADDRESS = "10.100.0.1";
    private int lastQueryLength;
    private int lastReplyLength;

    @BeforeEach
    void fixtureHost() throws IOException
    {
        Files.createDirectories(root.resolve("proc/self"));
        Files.writeString(root.resolve("proc/meminfo"), "MemTotal:       " + HOST_MEMORY_KIB + " kB\nMemFree: 1 kB\n");
        Files.writeString(root.resolve("proc/self/limits"),
            "Limit                     Soft Limit           Hard Limit           Units\n" +
            "Max open files            65536                65536                files\n");
        tokenFile = root.resolve("token");
        Files.writeString(tokenFile, "s3cret\n");
    }

    @Test
    void shouldReportEmulatedSensorsAsUnknownWhenBackendIsEmulated() throws IOException
    {
        final HealthFactsDecoder facts = answer(TokenAuthenticator.acceptAll(), "", 2);

        assertEquals(42, facts.correlationId());
        assertEquals(Protocol.VERSION, facts.protocolVersion());
        assertEquals(1, facts.tokenAccepted());
        assertEquals(HealthResponder.UNKNOWN, facts.cudaDriverVersion());
        assertEquals(HOST_MEMORY_KIB * 1024, facts.hostMemoryBytes());
        assertEquals(HealthResponder.UNKNOWN, facts.p2pSupported());

        int gpus = 0;
        for (final HealthFactsDecoder.GpusDecoder gpu : facts.gpus())
        {
            assertEquals(gpus, gpu.index());
            assertEquals(256L << 20, gpu.memoryTotalBytes());
            assertEquals(HealthResponder.UNKNOWN, gpu.temperatureC());
            assertEquals(HealthResponder.UNKNOWN, gpu.eccState());
            assertEquals(HealthResponder.UNKNOWN, gpu.eccCorrectableErrors());
            assertEquals(HealthResponder.UNKNOWN, gpu.computeMode());
            assertEquals(HealthResponder.UNKNOWN, gpu.currentLinkWidth());
            assertEquals(HealthResponder.UNKNOWN, gpu.maxLinkWidth());
            // The emulated GPU tells applications it lacks both, and health says the same.
            assertEquals(0, gpu.streamMemOps());
            assertEquals(0, gpu.hostPointerOnDevice());
            assertEquals(EmulatedBackend.DEVICE_NAME, gpu.name());
            gpus++;
        }
        assertEquals(2, gpus);

        final List<String> checks = new ArrayList<>();
        for (final HealthFactsDecoder.HostChecksDecoder check : facts.hostChecks())
        {
            checks.add(check.checkGroup() + "/" + check.checkName() + "/" + check.status() + "/" + check.detail());
        }
        assertEquals(4, checks.size(), checks::toString);
        assertTrue(checks.get(0).startsWith("PERFORMANCE/ulimit -n >= 4096/PASS/"), checks::toString);

        assertEquals("emulated", facts.backend());
        // Var data is read once, in order: each read moves past the field.
        final String bitfusionVersion = facts.bitfusionVersion();
        assertTrue(bitfusionVersion.matches("\\d+\\.\\d+\\.\\d+.*"), bitfusionVersion);
        assertEquals("", facts.driverVersion());
        assertEquals("", facts.message());
        assertEquals(CLIENT_ADDRESS, facts.observedClientAddress());
    }

    @Test
    void shouldRefuseWithReasonAndNoFactsWhenTokenRejected() throws IOException
    {
        final HealthFactsDecoder facts = answer(TokenAuthenticator.fromFile(tokenFile), "wrong", 1);

        assertEquals(0, facts.tokenAccepted());
        assertEquals(0, facts.gpus().count());
        assertEquals(0, facts.hostChecks().count());
        assertEquals("", facts.backend());
        facts.skipBitfusionVersion();
        facts.skipDriverVersion();
        final String message = facts.message();
        assertTrue(message.startsWith("the token does not match"), message);
        // A stranger learns who the server is and why, nothing more.
        assertEquals("", facts.observedClientAddress());
        assertTrue(lastReplyLength <= lastQueryLength,
            "a refusal of " + lastReplyLength + " bytes to a query of " + lastQueryLength);
    }

    @Test
    void shouldAnswerWhenTokenMatches() throws IOException
    {
        final HealthFactsDecoder facts = answer(TokenAuthenticator.fromFile(tokenFile), "s3cret", 1);

        assertEquals(1, facts.tokenAccepted());
        assertEquals(1, facts.gpus().count());
    }

    private HealthFactsDecoder answer(final TokenAuthenticator authenticator, final String token, final int gpus)
    {
        final GpuServer.Context context = new GpuServer.Context()
            .backend(new EmulatedBackend(gpus, 256L << 20))
            .authenticator(authenticator)
            .errorLog(new ServerErrorLog(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
        final HostView host = new HostView(root, Map.of(), (command) -> new CommandResult(0, "", ""),
            new JavaNetworkView(), (path) -> {}, Runtime.version());
        final CompletableFuture<UnsafeBuffer> reply = new CompletableFuture<>();
        final HealthResponder responder = new HealthResponder(context, host, HealthThresholds.DEFAULTS,
            (channel, streamId, message, length) ->
            {
                final UnsafeBuffer copy = new UnsafeBuffer(new byte[length]);
                copy.putBytes(0, message, 0, length);
                reply.complete(copy);
            });

        final long timestampMs = System.currentTimeMillis();
        final byte[] proof = Credentials.ofToken(token)
            .prove(Handshakes.query(Handshakes.HEALTH_QUERY, 42, REPLY_STREAM, timestampMs));
        final UnsafeBuffer query = new UnsafeBuffer(new byte[1024]);
        final HealthQueryEncoder encoder = new HealthQueryEncoder()
            .wrapAndApplyHeader(query, 0, new MessageHeaderEncoder())
            .correlationId(42)
            .protocolVersion(Protocol.VERSION)
            .replyStreamId(REPLY_STREAM)
            .timestampMs(timestampMs)
            .putAuthProof(proof, 0, proof.length)
            .putPadding(new byte[192], 0, 192);
        lastQueryLength = MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength();
        responder.onHealthQuery(query, MessageHeaderEncoder.ENCODED_LENGTH, encoder.sbeBlockLength(),
            encoder.sbeSchemaVersion(), "aeron:udp?endpoint=10.100.0.2:56001", CLIENT_ADDRESS, lastQueryLength, null);

        final UnsafeBuffer buffer = reply.orTimeout(10, TimeUnit.SECONDS).join();
        lastReplyLength = buffer.capacity();
        final MessageHeaderDecoder header = new MessageHeaderDecoder().wrap(buffer, 0);
        assertEquals(HealthFactsDecoder.TEMPLATE_ID, header.templateId());
        return new HealthFactsDecoder().wrapAndApplyHeader(buffer, 0, header);
    }
}
