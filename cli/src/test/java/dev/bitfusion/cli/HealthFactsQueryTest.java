package dev.bitfusion.cli;

import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthReport;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.HealthThresholds;
import dev.bitfusion.health.ServerAddress;
import dev.bitfusion.health.ServerHealth;
import dev.bitfusion.health.host.CommandResult;
import dev.bitfusion.health.host.HostView;
import dev.bitfusion.health.host.JavaNetworkView;
import dev.bitfusion.health.server.BackendKind;
import dev.bitfusion.health.server.ClientInfo;
import dev.bitfusion.health.server.ComputeMode;
import dev.bitfusion.health.server.EccState;
import dev.bitfusion.health.server.GpuFacts;
import dev.bitfusion.health.server.ServerFacts;
import dev.bitfusion.server.GpuServer;
import dev.bitfusion.server.ServerErrorLog;
import dev.bitfusion.server.TokenAuthenticator;
import dev.bitfusion.server.backend.emulated.EmulatedBackend;
import dev.bitfusion.server.health.HealthResponder;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.protocol.HealthFactsDecoder;
import dev.bitfusion.transport.protocol.MessageHeaderDecoder;
import org.agrona.ExpandableArrayBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HealthFactsQueryTest
{
    private static final ServerAddress ADDRESS = new ServerAddress("10.0.0.11", 56001);
    private static final String CLIENT_ADDRESS = "10.200.0.2";
    private static final String NAT_ADDRESS = "10.0.0.1";

    @TempDir
    Path root;

    @Test
    void shouldDecodeWhatServerEncodesWhenBackendIsEmulated() throws IOException
    {
        Files.createDirectories(root.resolve("proc"));
        Files.writeString(root.resolve("proc/meminfo"), "MemTotal: 1048576 kB\n");

        final ServerFacts facts = roundTrip(new EmulatedBackend(2, 512L << 20));

        assertEquals(ADDRESS, facts.address());
        assertEquals(BackendKind.EMULATED, facts.backend());
        assertEquals(Protocol.VERSION, facts.protocolVersion());
        assertNull(facts.driverVersion());
        assertEquals(GpuFacts.UNKNOWN, facts.cudaDriverVersion());
        assertEquals(1L << 30, facts.hostMemoryBytes());
        assertNull(facts.p2pSupported());
        assertEquals(2, facts.gpus().size());
        final GpuFacts gpu = facts.gpus().get(1);
        assertEquals(1, gpu.index());
        assertEquals(512L << 20, gpu.memoryTotalBytes());
        assertEquals(EccState.UNKNOWN, gpu.ecc());
        assertEquals(ComputeMode.UNKNOWN, gpu.computeMode());
        assertEquals(GpuFacts.UNKNOWN, gpu.currentLinkWidth());
        assertEquals(Boolean.FALSE, gpu.streamMemOps());
        assertEquals(4, facts.hostChecks().size());
        // Not measured by the query; the probe adds the measurements.
        assertEquals(-1, facts.latencyNs());
        assertEquals(CLIENT_ADDRESS, facts.clientAddress());
        assertEquals(NAT_ADDRESS, facts.observedClientAddress());
    }

    @Test
    void shouldReportNatWhenServerSawClientAtAnotherAddress()
    {
        final ServerFacts facts = roundTrip(new EmulatedBackend(1, 64L << 20));
        final HealthReport section = ServerHealth.evaluate(
            facts, new ClientInfo(facts.bitfusionVersion(), Protocol.VERSION), HealthThresholds.DEFAULTS);

        final CheckResult nat = section.results().stream()
            .filter(result -> result.name().endsWith("(NAT)")).findFirst().orElseThrow();
        assertEquals(HealthStatus.INFO, nat.status(), nat::toString);
        assertTrue(nat.detail().startsWith("Seen as " + NAT_ADDRESS + ", not as its own address " + CLIENT_ADDRESS),
            nat::toString);
    }

    @Test
    void shouldNeverPassGpuChecksWhenServerIsEmulated()
    {
        final ServerFacts facts = roundTrip(new EmulatedBackend(1, 64L << 20));
        final HealthReport section = ServerHealth.evaluate(
            facts, new ClientInfo(facts.bitfusionVersion(), Protocol.VERSION), HealthThresholds.DEFAULTS);

        // Connectivity and versions were really checked, and latency and bandwidth were not measured here,
        // so the rest are the GPU's checks: the emulated GPU must answer INFO or SKIPPED to each.
        final Set<String> realChecks = Set.of("connectivity and auth token",
            "client address as the server sees it (NAT)", "GPU API mismatch (client and server protocol versions)");
        for (final CheckResult result : section.results())
        {
            if (!facts.hostChecks().contains(result) && !realChecks.contains(result.name()))
            {
                assertTrue(HealthStatus.INFO == result.status() || HealthStatus.SKIPPED == result.status(),
                    result::toString);
            }
        }
    }

    private ServerFacts roundTrip(final EmulatedBackend backend)
    {
        final GpuServer.Context context = new GpuServer.Context()
            .backend(backend)
            .authenticator(TokenAuthenticator.acceptAll())
            .errorLog(new ServerErrorLog(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
        final HostView host = new HostView(root, Map.of(), (command) -> new CommandResult(0, "", ""),
            new JavaNetworkView(), (path) -> {}, Runtime.version());
        final HealthResponder responder = new HealthResponder(
            context, host, HealthThresholds.DEFAULTS, (channel, streamId, message, length) -> {});

        final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64);
        responder.encodeFacts(7, NAT_ADDRESS, buffer);
        final MessageHeaderDecoder header = new MessageHeaderDecoder().wrap(buffer, 0);
        return HealthFactsQuery.decode(
            ADDRESS, CLIENT_ADDRESS, new HealthFactsDecoder().wrapAndApplyHeader(buffer, 0, header));
    }
}
