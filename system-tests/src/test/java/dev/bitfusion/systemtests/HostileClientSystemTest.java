package dev.bitfusion.systemtests;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.transport.AeronTransport;
import dev.bitfusion.transport.ChannelUris;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.TransportSettings;
import dev.bitfusion.transport.protocol.*;
import io.aeron.ExclusivePublication;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.bitfusion.cuda.CuResult.*;
import static dev.bitfusion.systemtests.RawSession.HEADER;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A hostile client against a real {@code bitfusion server}: a flood of the control stream, a module staging bomb,
 * lengths that overflow or are negative, and a server exposed without a token.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class HostileClientSystemTest
{
    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;
    @RegisterExtension
    final ClosedAfterEach resources = new ClosedAfterEach();

    @BeforeAll
    static void buildExamples() throws Exception
    {
        CudaExamples.buildAll();
    }

    @Test
    void shouldKeepThreadsFlatAndServeLegitimateClientsDuringAFloodOfListGpus() throws Exception
    {
        final ServerProcess server = ServerProcess.start(1024);
        resources.add(server);
        PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));
        final long threadsBefore = server.status("Threads");

        final TransportSettings settings = new TransportSettings().aeronDirectoryName(
            TransportSettings.defaultAeronDirectory("test-flood-" + ProcessHandle.current().pid()));
        final AeronTransport transport = AeronTransport.launchEmbedded(settings);
        resources.add(transport);
        final ExclusivePublication control = transport.aeron().addExclusivePublication(
            ChannelUris.udp(server.endpoint(), settings), Protocol.CONTROL_STREAM_ID);
        resources.add(control);
        // The flood's publication names no reply subscription: the server's answers find nobody on the path back,
        // the worst a stranger can make a reply sender do.

        final AtomicInteger sent = new AtomicInteger();
        final AtomicBoolean flooding = new AtomicBoolean(true);
        final Thread flood = new Thread(() ->
        {
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[512]);
            final MessageHeaderEncoder header = new MessageHeaderEncoder();
            for (int wave = 0; wave < 4; wave++)
            {
                for (int i = 0; i < 5_000; i++)
                {
                    final int length = HEADER + new ListGpusEncoder().wrapAndApplyHeader(buffer, 0, header)
                        .correlationId(sent.get()).replyStreamId(10_000 + sent.get()).timestampMs(0)
                        .waitTicket(0).waitSinceMs(0).waitMemoryFraction(0).waitMemoryMb(0)
                        .putAuthProof(new byte[0], 0, 0).clientTag("").putPadding(new byte[0], 0, 0)
                        .encodedLength();
                    while (control.offer(buffer, 0, length) < 0)
                    {
                        Thread.onSpinWait();
                    }
                    sent.incrementAndGet();
                }
                sleep(2_000);
            }
            flooding.set(false);
        }, "flood");
        flood.start();

        long mostThreads = threadsBefore;
        int listings = 0;
        try (BitfusionRun run = BitfusionRun.start("-n", "1", "-p", "0.25", "--server_list", server.serverList(), "--",
            CudaExamples.binary("vector_add")))
        {
            while (flooding.get() || listings < 3)
            {
                final long startNs = System.nanoTime();
                final GpuPoolInfo pool = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));
                assertNotNull(pool, "list_gpus answered during the flood, after " + sent.get() + " requests");
                listings++;
                System.out.println("flood: " + sent.get() + " requests sent, a legitimate listing took " +
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNs) + " ms");
                mostThreads = Math.max(mostThreads, server.status("Threads"));
            }
            assertEquals(0, run.await(120), run.output());
            assertTrue(run.output().contains("vector_add: 4096 elements PASSED"), run.output());
        }
        flood.join();
        assertEquals(20_000, sent.get());

        mostThreads = Math.max(mostThreads, server.status("Threads"));
        System.out.println("flood of 20,000 ListGpus: server threads " + threadsBefore + " before, at most " + mostThreads);
        assertTrue(mostThreads <= threadsBefore + 8, "server threads: " + threadsBefore + " before, " + mostThreads);
        assertTrue(server.isAlive());
    }

    @Test
    void shouldRefuseAStagingBombAndStayUpWithAFlatHeap() throws Exception
    {
        final List<String> command = JavaProcess.command("dev.bitfusion.cli.BitfusionCommand");
        command.add(1, "-Xmx1g");
        final int port = ServerProcess.freeUdpPort();
        command.addAll(List.of("server", "--listen", "127.0.0.1:" + port, "--backend", "emulated", "--memory-mb", "1024"));
        final ServerProcess server = ServerProcess.start(command, port);
        resources.add(server);
        final long rssBeforeKb = server.status("VmRSS");

        // Eight tenants each announce sixteen images of 1 GiB in 50-byte chunks: 128 GiB announced.
        final List<RawSession> bombers = new ArrayList<>();
        for (int tenant = 0; tenant < 8; tenant++)
        {
            final RawSession bomber = RawSession.open(server.endpoint(), 16);
            resources.add(bomber);
            bombers.add(bomber);
            for (int module = 1; module <= 16; module++)
            {
                bomber.send(HEADER + new ModuleImageChunkEncoder().wrapAndApplyHeader(bomber.buffer, 0, bomber.header)
                    .moduleHandle(module).byteOffset(0).totalBytes(1L << 30).putData(new byte[50], 0, 50).encodedLength());
            }
        }
        for (final RawSession bomber : bombers)
        {
            assertTrue(bomber.answers(77), "a bombing tenant's session still answers");
            bomber.send(HEADER + new ModuleLoadEncoder().wrapAndApplyHeader(bomber.buffer, 0, bomber.header)
                .correlationId(78).moduleHandle(1).contextHandle(0).encodedLength());
            final RawSession.Reply load = bomber.awaitResult(78);
            assertEquals(CUDA_ERROR_INVALID_VALUE, load.result(), load.toString());
            assertTrue(load.message().contains("incomplete"), load.message());
        }
        final long rssAfterKb = server.status("VmRSS");
        System.out.println("staging bomb of 128 GiB announced: server RSS " + (rssBeforeKb >> 10) + " -> " +
            (rssAfterKb >> 10) + " MiB");
        assertTrue(rssAfterKb - rssBeforeKb < 256 << 10, "server RSS grew from " + rssBeforeKb + " to " + rssAfterKb + " kB");

        // One tenant sends the bytes of a 1 GiB image for real: it is refused once past its share.
        final RawSession filler = bombers.get(0);
        final byte[] chunk = new byte[60 * 1024];
        long offset = 0;
        RawSession.Reply refused = null;
        while (refused == null && offset < (1L << 30))
        {
            filler.send(HEADER + new ModuleImageChunkEncoder().wrapAndApplyHeader(filler.buffer, 0, filler.header)
                .moduleHandle(99).byteOffset(offset).totalBytes(1L << 30).putData(chunk, 0, chunk.length)
                .encodedLength());
            offset += chunk.length;
            filler.poll();
            refused = filler.replies.stream().filter(reply -> reply.templateId() == AsyncErrorDecoder.TEMPLATE_ID)
                .findFirst().orElse(null);
        }
        assertNotNull(refused, "the image was never refused");
        assertEquals(CUDA_ERROR_OUT_OF_MEMORY, refused.result(), refused.toString());
        assertTrue(refused.message().contains("host memory"), refused.message());
        System.out.println("a real 1 GiB image refused after " + (offset >> 20) + " MiB: " + refused.message());
        assertTrue(filler.answers(79), "the refused tenant's session still answers");
        assertTrue(server.isAlive());
        assertTrue(server.status("VmRSS") - rssBeforeKb < 640 << 10, "RSS after the refused image");
        assertFalse(server.output().stream().anyMatch(line -> line.contains("OutOfMemoryError")), server.output()::toString);
    }

    @Test
    void shouldAnswerOverflowingAndNegativeLengthsWithErrors() throws Exception
    {
        final ServerProcess server = ServerProcess.start(512);
        resources.add(server);
        final RawSession raw = RawSession.open(server.endpoint(), 64);
        resources.add(raw);

        long correlationId = 100;
        for (final int hostile : new int[]{ Integer.MAX_VALUE - 3, 0x8000_0000, -16, -1, 1 << 30 })
        {
            final int nameLength = HEADER + ModuleGetFunctionEncoder.BLOCK_LENGTH;
            final int length = HEADER + new ModuleGetFunctionEncoder().wrapAndApplyHeader(raw.buffer, 0, raw.header)
                .correlationId(++correlationId).moduleHandle(1).functionHandle(2).name("kernel").encodedLength();
            raw.buffer.putInt(nameLength, hostile, ORDER);
            raw.send(length);
            final RawSession.Reply reply = raw.awaitResult(correlationId);
            assertEquals(CUDA_ERROR_INVALID_VALUE, reply.result(), reply.toString());
            assertTrue(reply.message().contains("runs past the message end"), reply.message());

            final int globalLength = HEADER + new ModuleGetGlobalEncoder().wrapAndApplyHeader(raw.buffer, 0, raw.header)
                .correlationId(++correlationId).moduleHandle(1).name("g").encodedLength();
            raw.buffer.putInt(HEADER + ModuleGetGlobalEncoder.BLOCK_LENGTH, hostile, ORDER);
            raw.send(globalLength);
            assertEquals(CUDA_ERROR_INVALID_VALUE, raw.awaitResult(correlationId).result());

            final int launchLength = HEADER + new LaunchKernelEncoder().wrapAndApplyHeader(raw.buffer, 0, raw.header)
                .functionHandle(1).putParameters(new byte[8], 0, 8).encodedLength();
            raw.buffer.putInt(HEADER + LaunchKernelEncoder.BLOCK_LENGTH, hostile, ORDER);
            raw.send(launchLength);
            final RawSession.Reply asyncError =
                raw.await(candidate -> candidate.templateId() == AsyncErrorDecoder.TEMPLATE_ID);
            assertEquals(CUDA_ERROR_INVALID_VALUE, asyncError.result(), asyncError.toString());
        }
        assertTrue(raw.answers(999), "the session still serves");

        // On the control stream: a string longer than the schema allows is refused with the reason, on the path
        // the request came by ...
        final RawSession stranger = RawSession.controlOnly(server.endpoint());
        resources.add(stranger);
        new SessionOpenEncoder().wrapAndApplyHeader(stranger.buffer, 0, stranger.header).correlationId(5)
            .protocolVersion(Protocol.VERSION).gpuIndex(0).memoryFraction(0).memoryMb(16)
            .replyStreamId(stranger.replyStreamId());
        int limit = HEADER + SessionOpenEncoder.BLOCK_LENGTH;
        stranger.buffer.putInt(limit, 5_000, ORDER);
        limit += 4 + 5_000;
        for (int emptyField = 0; emptyField < 3; emptyField++)
        {
            // The public key, the proof and the padding.
            stranger.buffer.putInt(limit, 0, ORDER);
            limit += 4;
        }
        stranger.sendControl(limit);
        final RawSession.Reply refusal =
            stranger.await(reply -> reply.templateId() == SessionOpenReplyDecoder.TEMPLATE_ID);
        assertEquals(SessionStatus.BAD_REQUEST.value(), refusal.result(), refusal.toString());
        assertTrue(refusal.message().contains("clientId"), refusal.message());

        // ... and one whose length overflows is refused without its strings being read, the server still serving.
        for (final int hostile : new int[]{ Integer.MAX_VALUE - 3, -1 })
        {
            final SessionOpenEncoder open = new SessionOpenEncoder()
                .wrapAndApplyHeader(stranger.buffer, 0, stranger.header)
                .correlationId(6).protocolVersion(Protocol.VERSION).gpuIndex(0).memoryFraction(0).memoryMb(16)
                .replyStreamId(stranger.replyStreamId()).clientId("x");
            open.putClientPublicKey(new byte[0], 0, 0).putAuthProof(new byte[0], 0, 0).putPadding(new byte[0], 0, 0);
            final int length = HEADER + open.encodedLength();
            stranger.buffer.putInt(HEADER + SessionOpenEncoder.BLOCK_LENGTH, hostile, ORDER);
            stranger.sendControl(length);
        }
        assertNotNull(PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5)));
        assertTrue(server.isAlive());
        assertFalse(server.output().stream().anyMatch(line -> line.contains("NegativeArraySize") ||
            line.contains("OutOfMemoryError")), server.output()::toString);
    }

    @Test
    void shouldSayLoudlyThatAServerReachableFromOtherHostsHasNoToken() throws Exception
    {
        final int port = ServerProcess.freeUdpPort();
        final List<String> exposed = JavaProcess.command("dev.bitfusion.cli.BitfusionCommand");
        exposed.addAll(List.of("server", "--listen", "0.0.0.0:" + port, "--backend", "emulated", "--memory-mb", "256"));
        try (ServerProcess server = ServerProcess.start(exposed, port))
        {
            assertTrue(server.output().stream().anyMatch(line -> line.contains("WITHOUT A TOKEN")),
                server.output()::toString);
        }

        final Path tokenFile = Files.createTempFile("bitfusion-token", ".txt");
        resources.add(() -> Files.deleteIfExists(tokenFile));
        Files.writeString(tokenFile, "s3cret\n");
        final int tokenPort = ServerProcess.freeUdpPort();
        final List<String> withToken = JavaProcess.command("dev.bitfusion.cli.BitfusionCommand");
        withToken.addAll(List.of("server", "--listen", "0.0.0.0:" + tokenPort, "--backend", "emulated",
            "--memory-mb", "256", "--token-file", tokenFile.toString()));
        try (ServerProcess server = ServerProcess.start(withToken, tokenPort))
        {
            assertFalse(server.output().stream().anyMatch(line -> line.contains("WITHOUT A TOKEN")),
                server.output()::toString);
        }
        try (ServerProcess server = ServerProcess.start(256))
        {
            assertFalse(server.output().stream().anyMatch(line -> line.contains("WITHOUT A TOKEN")),
                server.output()::toString);
        }
    }

    private static void sleep(final long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
