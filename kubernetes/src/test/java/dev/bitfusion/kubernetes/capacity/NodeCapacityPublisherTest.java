package dev.bitfusion.kubernetes.capacity;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.bitfusion.kubernetes.tls.PemKeyMaterial;
import dev.bitfusion.kubernetes.tls.WebhookCertificates;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.zjsonpatch.JsonPatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The publisher against an HTTPS endpoint standing in for the API server: it records each request, and the
 * test applies the recorded patch to a node as the API server would. No live API server can be had here;
 * what this pins is the request Kubernetes documents for advertising an extended resource.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NodeCapacityPublisherTest
{
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    @TempDir
    Path dir;

    private HttpsServer apiServer;
    private final List<Map<String, String>> requests = new CopyOnWriteArrayList<>();
    private volatile int status = 200;

    @BeforeEach
    void start() throws IOException
    {
        WebhookCertificates.write(List.of("localhost"), dir);
        apiServer = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
        apiServer.setHttpsConfigurator(new HttpsConfigurator(PemKeyMaterial.serverContext(
            dir.resolve(WebhookCertificates.CERTIFICATE_FILE), dir.resolve(WebhookCertificates.KEY_FILE))));
        apiServer.createContext("/", exchange ->
        {
            try (exchange)
            {
                requests.add(Map.of(
                    "method", exchange.getRequestMethod(),
                    "path", exchange.getRequestURI().getPath(),
                    "authorization", String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")),
                    "contentType", String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type")),
                    "body", new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
                final byte[] answer = (status == 200 ? "{}" : "{\"message\":\"nodes \\\"gpu-node-1\\\" is forbidden\"}")
                    .getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(status, answer.length);
                exchange.getResponseBody().write(answer);
            }
        });
        apiServer.start();
        Files.writeString(dir.resolve("token"), "service-account-token\n");
    }

    @AfterEach
    void stop()
    {
        apiServer.stop(0);
    }

    @Test
    void shouldPatchTheNodeStatusCapacityWithItsToken() throws Exception
    {
        publisher().publish("gpu-node-1", 400);

        assertEquals(1, requests.size());
        final Map<String, String> request = requests.get(0);
        assertEquals("PATCH", request.get("method"));
        assertEquals("/api/v1/nodes/gpu-node-1/status", request.get("path"));
        assertEquals("Bearer service-account-token", request.get("authorization"));
        assertEquals("application/json-patch+json", request.get("contentType"));

        final Node node = new NodeBuilder().withNewMetadata().withName("gpu-node-1").endMetadata()
            .withNewStatus().addToCapacity("cpu", new Quantity("8")).endStatus().build();
        final JsonNode patched = JsonPatch.apply(MAPPER.readTree(request.get("body")), MAPPER.valueToTree(node));
        final Node result = MAPPER.treeToValue(patched, Node.class);
        assertEquals(new Quantity("400"), result.getStatus().getCapacity().get("bitfusion.io/gpu"));
        assertEquals(new Quantity("8"), result.getStatus().getCapacity().get("cpu"));
    }

    @Test
    void shouldSayWhatTheApiServerAnsweredWhenItRefuses()
    {
        status = 403;
        final IOException refused = assertThrows(IOException.class, () -> publisher().publish("gpu-node-1", 100));

        assertTrue(refused.getMessage().contains("403") && refused.getMessage().contains("forbidden"), refused.getMessage());
    }

    @Test
    void shouldNameTheApiServerItCannotReach() throws IOException
    {
        final int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            closedPort = socket.getLocalPort();
        }
        final IOException unreachable =
            assertThrows(IOException.class, () -> publisher(closedPort).publish("gpu-node-1", 100));

        final String expected = "cannot reach the API server at https://localhost:" + closedPort + ": ";
        assertTrue(unreachable.getMessage().startsWith(expected), unreachable.getMessage());
    }

    private NodeCapacityPublisher publisher()
    {
        return publisher(apiServer.getAddress().getPort());
    }

    private NodeCapacityPublisher publisher(final int port)
    {
        return new NodeCapacityPublisher(new ApiServerAccess(URI.create("https://localhost:" + port),
            dir.resolve(WebhookCertificates.CA_FILE), dir.resolve("token")));
    }
}
