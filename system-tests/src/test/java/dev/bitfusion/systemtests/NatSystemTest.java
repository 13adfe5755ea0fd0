package dev.bitfusion.systemtests;

import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * bitfusion across source NAT, on hosts made of network namespaces ({@link NatNetwork}): clients masqueraded by a
 * router reach a real {@code bin/bitfusion server} that has no route back to them, as pods leaving their cluster
 * reach GPU servers on another network. Replies travel back on the path each client opened, so {@code list_gpus},
 * {@code health} and an nvcc-built program through {@code bitfusion run} work from behind the NAT, two clients
 * behind one NAT address at once too; health reports the NAT as INFO, and a firewall that drops the server's
 * response port makes it FATAL, naming the ports to open.
 * <p>
 * Skipped, saying why on stderr, where namespaces cannot be made (not root, no iproute2 or iptables, no NAT in the
 * kernel); the programs' tests are skipped without nvcc.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class NatSystemTest
{
    private static final long SERVER_MEMORY_MB = 1024;
    private static final long COMMAND_TIMEOUT_S = 90;
    private static final String PROGRAM = "vector_add";

    /**
     * A client command, running.
     *
     * @param process its process.
     * @param output  the file its stdout and stderr go to.
     */
    record Client(Process process, Path output)
    {
    }

    /**
     * A client command that has ended.
     *
     * @param exitCode its exit code.
     * @param output   its stdout and stderr.
     */
    record Outcome(int exitCode, String output)
    {
    }

    @TempDir
    Path tmp;

    private NatNetwork network;
    private ServerProcess server;
    private final List<Client> clients = new ArrayList<>();

    @BeforeEach
    void startServerBehindNat() throws IOException, InterruptedException
    {
        if (!Files.isRegularFile(CudaExamples.ROOT.resolve("cli/target/lib/bitfusion-cli.jar")))
        {
            fail("the distribution is not built: run ./mvnw -DskipTests package in " + CudaExamples.ROOT);
        }
        network = NatNetwork.create();
        // The namespace keeps the port to itself, but the server's Aeron directory is named by its port and shared
        // with the host: a port free on the host keeps it apart from other servers there.
        final Endpoint endpoint = new Endpoint(NatNetwork.SERVER_ADDRESS, ServerProcess.freeUdpPort());
        server = ServerProcess.start(network.in(network.server(), List.of(launcher(), "server",
            "--backend", "emulated", "--listen", endpoint.toString(), "--memory-mb", Long.toString(SERVER_MEMORY_MB))),
            endpoint);
    }

    @AfterEach
    void stopEverything() throws InterruptedException
    {
        try
        {
            for (final Client client : clients)
            {
                client.process().descendants().forEach(ProcessHandle::destroyForcibly);
                client.process().destroyForcibly();
                client.process().waitFor(10, TimeUnit.SECONDS);
            }
            if (server != null)
            {
                server.close();
            }
        }
        finally
        {
            if (network != null)
            {
                network.close();
            }
        }
    }

    @Test
    void shouldListGpusAndReportNatInHealthWhenServerHasNoRouteBackToClient() throws Exception
    {
        // Without the router's NAT, nothing the server sends could reach the client.
        final String route = network.serverRouteToClient();
        assertTrue(route.contains("unreachable"), "the server has a route to the client's subnet: " + route);

        final Outcome list = await(client(network.clientA(), "list_gpus", "list_gpus", "--server_list", serverList()));
        assertEquals(0, list.exitCode(), list::toString);
        assertTrue(list.output().contains("GPU 0: Bitfusion Emulated GPU"), list::toString);

        final Outcome health = await(client(network.clientA(), "health", "health", "--server_list", serverList()));
        assertTrue(health.output().contains("[INFO    ] Check client address as the server sees it (NAT): Seen as " +
            NatNetwork.NAT_ADDRESS + ", not as its own address " + NatNetwork.CLIENT_A_ADDRESS + ": NAT in between"),
            health::toString);
        assertTrue(health.output().contains("[PASS    ] Check connectivity and auth token"), health::toString);
        assertEquals(0, health.exitCode(), health::toString);
    }

    @Test
    void shouldRunCudaProgramFromBehindNat() throws Exception
    {
        CudaExamples.buildAll();

        final Outcome run = await(client(network.clientA(), "run", runArguments()));

        assertTrue(run.output().contains(CudaExamples.verdict(PROGRAM)), run::toString);
        assertEquals(0, run.exitCode(), run::toString);
    }

    @Test
    void shouldRunTwoClientsBehindOneNatAddressAtOnce() throws Exception
    {
        CudaExamples.buildAll();

        final Client first = client(network.clientA(), "run-a", runArguments());
        final Client second = client(network.clientB(), "run-b", runArguments());
        final Outcome firstRun = await(first);
        final Outcome secondRun = await(second);

        for (final Outcome run : List.of(firstRun, secondRun))
        {
            assertTrue(run.output().contains(CudaExamples.verdict(PROGRAM)), run::toString);
            assertEquals(0, run.exitCode(), run::toString);
        }
    }

    @Test
    void shouldReportFatalNamingBothPortsWhenFirewallDropsReplies() throws Exception
    {
        final int port = server.endpoint().port();
        final int responsePort = Protocol.responsePort(port);
        network.dropAtRouter(responsePort);

        final Outcome health = await(client(network.clientA(), "health", "health", "--server_list", serverList(),
            "--timeout-ms", "3000"));

        assertTrue(health.output().contains("[FATAL   ] Check connectivity and auth token: no answer from bitfusion " +
            "server " + serverList()), health::toString);
        assertTrue(health.output().contains("UDP ports " + port + " and " + responsePort + " of " +
            NatNetwork.SERVER_ADDRESS + " reachable"), health::toString);
        assertEquals(1, health.exitCode(), health::toString);
    }

    private String serverList()
    {
        return server.endpoint().toString();
    }

    private String[] runArguments()
    {
        return new String[] {"run", "-n", "1", "-p", "0.5", "--server_list", serverList(), "--",
            CudaExamples.binary(PROGRAM)};
    }

    /**
     * Start {@code bin/bitfusion ARGS} in a client's namespace, its output going to a file named for it.
     */
    private Client client(final String namespace, final String name, final String... args) throws IOException
    {
        final Path output = tmp.resolve(name + ".out");
        final List<String> command = new ArrayList<>(List.of(launcher()));
        command.addAll(List.of(args));
        final ProcessBuilder builder = new ProcessBuilder(network.in(namespace, command))
            .redirectErrorStream(true)
            .redirectOutput(output.toFile());
        // The point is the network path: the program's embedded JVM speaks UDP, as it must from another host.
        builder.environment().put("BITFUSION_JVM_OPTS", "-Dbitfusion.client.transport=udp");
        builder.environment().remove("BITFUSION_SERVERS");
        builder.environment().remove("BITFUSION_TOKEN");
        final Client client = new Client(builder.start(), output);
        clients.add(client);
        return client;
    }

    private static Outcome await(final Client client) throws IOException, InterruptedException
    {
        if (!client.process().waitFor(COMMAND_TIMEOUT_S, TimeUnit.SECONDS))
        {
            fail(client.output().getFileName() + ": did not end in " + COMMAND_TIMEOUT_S + " s: " +
                Files.readString(client.output(), StandardCharsets.UTF_8));
        }
        return new Outcome(client.process().exitValue(), Files.readString(client.output(), StandardCharsets.UTF_8));
    }

    private static String launcher()
    {
        return CudaExamples.ROOT.resolve("bin/bitfusion").toString();
    }
}
