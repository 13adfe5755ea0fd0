package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.transport.TransportSettings;
import dev.bitfusion.transport.protocol.MemAllocEncoder;
import dev.bitfusion.transport.protocol.MemcpyHtoDChunkEncoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import dev.bitfusion.transport.protocol.ModuleImageChunkEncoder;
import dev.bitfusion.transport.protocol.SessionCloseEncoder;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static dev.bitfusion.systemtests.DriverCalls.*;
import static dev.bitfusion.systemtests.Drivers.*;
import static dev.bitfusion.cuda.CuResult.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Bad input and dead peers: malformed messages, killed clients (their slices free within 3 s), a killed server,
 * wrong tokens.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FailureSystemTest
{
    /** The promise: a killed client's slice is free for others within this. */
    private static final long DEAD_CLIENT_FREED_WITHIN_MS = 3000;

    @RegisterExtension
    final ClosedAfterEach resources = new ClosedAfterEach();

    private ServerProcess startServer(final long memoryMb, final String... extraArgs) throws Exception
    {
        final ServerProcess server = ServerProcess.start(memoryMb, extraArgs);
        resources.add(server);
        return server;
    }

    private RemoteDriver open(final ServerProcess server, final String transport, final double fraction)
    {
        final RemoteDriver driver = Drivers.open(server.endpoint(), transport, fraction);
        resources.add(driver);
        return driver;
    }

    /**
     * Malformed messages from the session's own client (the only publication its request stream hears): each is
     * answered with an asynchronous error saying what was wrong, and the session and the server go on.
     */
    @Test
    void shouldReportMalformedMessagesAndKeepServingTheSession() throws Exception
    {
        final ServerProcess server = startServer(512);
        final RawSession raw = RawSession.open(server.endpoint(), 64);
        resources.add(raw);

        final UnsafeBuffer buffer = raw.buffer;
        final MessageHeaderEncoder header = raw.header;

        raw.send(3);
        raw.awaitAsyncError("truncated message of 3 bytes");

        header.wrap(buffer, 0).blockLength(8).templateId(20).schemaId(4242).version(1);
        raw.send(16);
        raw.awaitAsyncError("unknown schema 4242");

        header.wrap(buffer, 0).blockLength(0).templateId(999).schemaId(MessageHeaderEncoder.SCHEMA_ID).version(1);
        raw.send(8);
        raw.awaitAsyncError("unknown opcode (template id 999)");

        // MemFree: a request without a correlation id, so its error comes asynchronously.
        header.wrap(buffer, 0).blockLength(64).templateId(21).schemaId(MessageHeaderEncoder.SCHEMA_ID).version(1);
        raw.send(20);
        raw.awaitAsyncError("truncated message: template 21");

        new MemAllocEncoder().wrapAndApplyHeader(buffer, 0, header).correlationId(1).bytes(64);
        raw.send(MessageHeaderEncoder.ENCODED_LENGTH + MemAllocEncoder.BLOCK_LENGTH);
        final RawSession.Reply allocated = raw.awaitResult(1);
        assertEquals(CUDA_SUCCESS, allocated.result(), "cuMemAlloc on the raw session");

        new MemcpyHtoDChunkEncoder().wrapAndApplyHeader(buffer, 0, header).streamHandle(0).deviceAddress(allocated.value1());
        final int lengthField = MessageHeaderEncoder.ENCODED_LENGTH + MemcpyHtoDChunkEncoder.BLOCK_LENGTH;
        buffer.putInt(lengthField, 1 << 20, ByteOrder.LITTLE_ENDIAN);
        raw.send(lengthField + 4 + 16);
        raw.awaitAsyncError("runs past the message end");

        new ModuleImageChunkEncoder().wrapAndApplyHeader(buffer, 0, header)
            .moduleHandle(0x5000).byteOffset(0).totalBytes(1L << 40);
        final int imageLengthField = MessageHeaderEncoder.ENCODED_LENGTH + ModuleImageChunkEncoder.BLOCK_LENGTH;
        buffer.putInt(imageLengthField, 0, ByteOrder.LITTLE_ENDIAN);
        raw.send(imageLengthField + 4);
        raw.awaitAsyncError("module image of " + (1L << 40) + " bytes refused");

        new SessionCloseEncoder().wrapAndApplyHeader(buffer, 0, header).sessionId(raw.sessionId() + 99);
        raw.send(MessageHeaderEncoder.ENCODED_LENGTH + SessionCloseEncoder.BLOCK_LENGTH);
        raw.awaitAsyncError("not this one");

        assertTrue(server.isAlive(), "the server survives bad input");
        new MemAllocEncoder().wrapAndApplyHeader(buffer, 0, header).correlationId(2).bytes(1 << 20);
        raw.send(MessageHeaderEncoder.ENCODED_LENGTH + MemAllocEncoder.BLOCK_LENGTH);
        assertEquals(CUDA_SUCCESS, raw.awaitResult(2).result(), "the session still works after bad input");
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldFreeTheSliceOfAClientKilledMidCopy(final String transport) throws Exception
    {
        final ServerProcess server = startServer(1024);
        final List<String> command = JavaProcess.command(CopyingClient.class.getName());
        command.addAll(List.of(server.serverList(), transport, "256"));
        final Process client = new ProcessBuilder(command).redirectErrorStream(true).start();
        resources.add(client::destroyForcibly);
        final BufferedReader output = new BufferedReader(
            new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
        final String firstLine = output.readLine();
        assertEquals("ALLOCATED " + (256L << 20), firstLine);
        Thread.sleep(300);

        final GpuPoolInfo busy = PoolQuery.listGpus(server.endpoint(), TimeUnit.SECONDS.toNanos(5));
        assertEquals(1, busy.openSessions());
        assertEquals(256L << 20, busy.gpus().get(0).allocatedBytes());

        final Instant killedAt = Instant.now();
        client.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        final GpuPoolInfo after = server.awaitPool(pool -> pool.openSessions() == 0, 15_000);
        assertEquals(0, after.gpus().get(0).allocatedBytes(), "memory of the killed client freed");
        assertEquals(1024L << 20, after.gpus().get(0).unreservedBytes(), "slice of the killed client returned");

        // The server's own line says when it freed the slice, free of the latency of asking it.
        final String freed = server.output().stream().filter(line -> line.contains("freed " + (256L << 20) + " bytes"))
            .findFirst().orElseThrow(() -> new AssertionError("server log: " + server.output()));
        final long freedAfterMs = Duration.between(killedAt, Instant.parse(freed.substring(0, freed.indexOf(' '))))
            .toMillis();
        System.out.println("server freed the slice of the killed " + transport + " client " + freedAfterMs +
            " ms after the kill");
        assertTrue(freedAfterMs <= DEAD_CLIENT_FREED_WITHIN_MS,
            "the slice of the killed client was freed " + freedAfterMs + " ms after the kill: " + freed);
    }

    @ParameterizedTest
    @ValueSource(strings = { "udp", "ipc" })
    void shouldFailCallsWithinSecondsWhenTheServerIsKilled(final String transport) throws Exception
    {
        final ServerProcess server = startServer(512);
        final RemoteDriver driver = open(server, transport, 0.5);
        final long device = alloc(driver, 1 << 20);
        ok(driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize", driver);

        server.kill();
        final long killedAtNs = System.nanoTime();
        final int result = assertTimeoutPreemptively(Duration.ofSeconds(15), () ->
        {
            makePrimaryCurrent(driver);
            int status = CUDA_SUCCESS;
            try (NativeBuffer data = NativeBuffer.allocate(1 << 20))
            {
                while (status == CUDA_SUCCESS)
                {
                    status = driver.memory().cuMemcpyHtoD(device, data.address(), data.capacity());
                    if (status == CUDA_SUCCESS)
                    {
                        status = driver.memory().cuMemcpyDtoH(data.address(), device, data.capacity());
                    }
                }
            }
            return status;
        });
        final long failedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAtNs);
        expect(CUDA_ERROR_DEVICE_UNAVAILABLE, result, "a call after the server died");
        System.out.println("calls over " + transport + " failed " + failedAfterMs + " ms after the server was killed");
        assertTrue(failedAfterMs < 10_000, "calls failed " + failedAfterMs + " ms after the kill");
        expect(CUDA_ERROR_DEVICE_UNAVAILABLE, driver.contexts().cuCtxSynchronize(), "later calls fail the same way");
        assertTrue(driver.session(0).lastErrorMessage().contains("lost the GPU server"));
    }

    @Test
    void shouldRefuseSessionsPastTheServersLimit() throws Exception
    {
        final ServerProcess server = startServer(256, "--max-sessions", "1");
        open(server, "udp", 0.1);
        final RemoteDriver second = new RemoteDriver(
            new ClientSettings().server(server.endpoint()).memoryFraction(0.1), System.out);
        resources.add(second);
        expect(CUDA_ERROR_NO_DEVICE, second.cuInit(0), "cuInit past the session limit");
        assertTrue(second.lastError().contains("sessions open, its limit"), second.lastError());
    }

    @Test
    void shouldRefuseSessionsWithoutTheServersToken() throws Exception
    {
        final Path tokenFile = Files.createTempFile("bitfusion-token", ".txt");
        resources.add(() -> Files.deleteIfExists(tokenFile));
        Files.writeString(tokenFile, "s3cret-token\n");
        final ServerProcess server = startServer(256, "--token-file", tokenFile.toString());

        final RemoteDriver refused = new RemoteDriver(
            new ClientSettings().server(server.endpoint()).token("wrong").memoryFraction(0.5), System.out);
        resources.add(refused);
        expect(CUDA_ERROR_NO_DEVICE, refused.cuInit(0), "cuInit with a wrong token");
        assertTrue(refused.lastError().contains("AUTH_REFUSED"), refused.lastError());
        assertTrue(refused.lastError().contains("BITFUSION_TOKEN"), refused.lastError());

        final RemoteDriver accepted = Drivers.open(server.endpoint(), "udp",
            new ClientSettings().token("s3cret-token").memoryFraction(0.5));
        resources.add(accepted);
        alloc(accepted, 1024);
    }

    private static void awaitTrue(final Predicate<Void> condition, final String what) throws InterruptedException
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.test(null))
        {
            assertTrue(System.nanoTime() < deadlineNs, what + " timed out");
            Thread.sleep(10);
        }
    }
}
