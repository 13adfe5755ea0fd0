package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.transport.auth.Credentials;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.systemtests.DriverCalls.*;
import static dev.bitfusion.systemtests.Drivers.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A tenant's session belongs to the client that opened it: a hostile tenant in another process ({@link RogueClient}),
 * without the server's token and with a valid token of its own, cannot list who holds the slices, cannot write into
 * or close the victim's session, and cannot read or write the victim's memory through a session of its own; the
 * victim's data and session come through intact. Client ids are shown to the administrator's token.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class WireSecuritySystemTest
{
    private static final String TOKEN = "tenants-s3cret";
    private static final String ADMIN_TOKEN = "admin-s3cret";
    private static final String VICTIM_MARKER = "victim-4d1f";
    private static final int VICTIM_BYTES = 1 << 20;

    @RegisterExtension
    final ClosedAfterEach resources = new ClosedAfterEach();

    @Test
    void shouldKeepAStrangerAndAnotherTenantOutOfASession() throws Exception
    {
        final ServerProcess server = ServerProcess.start(1024,
            "--token-file", tokenFile(TOKEN).toString(), "--admin-token-file", tokenFile(ADMIN_TOKEN).toString());
        resources.add(server);
        final RemoteDriver victim = Drivers.open(server.endpoint(), "udp",
            new ClientSettings().token(TOKEN).clientId("alice@host:1 [" + VICTIM_MARKER + "]").memoryFraction(0.25));
        resources.add(victim);
        final byte[] data = pattern(VICTIM_BYTES, 11);
        final long address = alloc(victim, VICTIM_BYTES);
        ok(copyToDevice(victim, address, data), "cuMemcpyHtoD", victim);
        final long sessionId = victim.session(0).sessionId();

        final List<String> stranger = runRogue(server, "-", sessionId, address);
        assertTrue(stranger.stream().anyMatch(line -> line.contains("listing refused") && line.contains("requires a token")),
            () -> "a stranger's listing is refused: " + stranger);
        assertTrue(stranger.stream().anyMatch(line -> line.contains("no session of its own")), stranger::toString);

        final List<String> tenant = runRogue(server, TOKEN, sessionId, address);
        assertTrue(tenant.stream().anyMatch(line -> line.contains("slice of '(another tenant)'")),
            () -> "a tenant sees the victim's slice, not who holds it: " + tenant);
        assertTrue(tenant.stream().anyMatch(line -> line.contains("reading the victim's pointer in its own session")),
            tenant::toString);

        for (final List<String> rogue : List.of(stranger, tenant))
        {
            assertTrue(rogue.stream().anyMatch(line -> line.equals("rogue: done")), () -> "the rogue ran: " + rogue);
            assertTrue(rogue.stream().noneMatch(line -> line.startsWith("FINDING")), () -> "findings: " + rogue);
        }

        final byte[] back = new byte[VICTIM_BYTES];
        ok(copyFromDevice(victim, back, address), "cuMemcpyDtoH after the attacks", victim);
        assertArrayEquals(data, back, "the victim's memory is untouched");
        ok(victim.contexts().cuCtxSynchronize(), "the victim's session is still open", victim);

        final GpuPoolInfo asAdministrator =
            PoolQuery.listGpus(server.endpoint(), Credentials.ofToken(ADMIN_TOKEN), "", TimeUnit.SECONDS.toNanos(5));
        assertTrue(asAdministrator.gpus().get(0).slices().stream()
            .anyMatch(slice -> slice.clientId().contains(VICTIM_MARKER)), asAdministrator::toString);
    }

    private List<String> runRogue(final ServerProcess server, final String token, final long sessionId, final long address)
        throws IOException, InterruptedException
    {
        final List<String> command = JavaProcess.command(RogueClient.class.getName());
        command.addAll(List.of(server.serverList(), token, Long.toString(sessionId), Long.toString(address), VICTIM_MARKER));
        final Path output = Files.createTempFile("bitfusion-rogue", ".txt");
        resources.add(() -> Files.deleteIfExists(output));
        final Process rogue = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        resources.add(rogue::destroyForcibly);
        final boolean finished = rogue.waitFor(120, TimeUnit.SECONDS);
        final List<String> lines = Files.readAllLines(output, StandardCharsets.UTF_8);
        assertTrue(finished, () -> "the rogue finishes: " + lines);
        return lines;
    }

    private Path tokenFile(final String token) throws IOException
    {
        final Path file = Files.createTempFile("bitfusion-token", ".txt");
        Files.writeString(file, token + "\n");
        resources.add(() -> Files.deleteIfExists(file));
        return file;
    }
}
