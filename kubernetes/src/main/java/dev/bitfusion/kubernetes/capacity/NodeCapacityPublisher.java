package dev.bitfusion.kubernetes.capacity;

import dev.bitfusion.kubernetes.admission.PodContract;
import dev.bitfusion.kubernetes.tls.PemKeyMaterial;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;

/**
 * Advertises {@code bitfusion.io/gpu} in a node's capacity, so that pods the webhook charged in that resource
 * can be scheduled there and ResourceQuotas can count it: a JSON patch on the node's {@code status}
 * subresource, the way Kubernetes documents advertising an extended resource that no device plugin manages.
 * The kubelet then copies it into the node's allocatable.
 * <p>
 * Thread safety: immutable; the JDK's HTTP client is shared safely.
 */
public final class NodeCapacityPublisher
{
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    /** The resource name's "/" escaped as JSON pointers require (RFC 6901). */
    private static final String CAPACITY_POINTER = "/status/capacity/" + PodContract.GPU_RESOURCE.replace("/", "~1");

    private final ApiServerAccess access;
    private final HttpClient client;
    private final JsonMapper mapper = JsonMapper.builder().build();

    /**
     * @param access the API server and credentials.
     */
    public NodeCapacityPublisher(final ApiServerAccess access)
    {
        this.access = access;
        this.client = HttpClient.newBuilder()
            .sslContext(PemKeyMaterial.clientContext(access.caFile()))
            .connectTimeout(TIMEOUT)
            .build();
    }

    /**
     * @param node  the node's name.
     * @param units the capacity in {@code bitfusion.io/gpu} units (100 per GPU).
     * @throws IOException when the API server cannot be reached or refuses, with its answer.
     * @throws InterruptedException when interrupted while waiting for it.
     */
    public void publish(final String node, final long units) throws IOException, InterruptedException
    {
        final ArrayNode patch = mapper.createArrayNode();
        patch.addObject().put("op", "add").put("path", CAPACITY_POINTER).put("value", Long.toString(units));
        final String token = Files.readString(access.tokenFile(), StandardCharsets.US_ASCII).strip();
        final URI uri = access.server().resolve("/api/v1/nodes/" +
            URLEncoder.encode(node, StandardCharsets.UTF_8) + "/status");
        final HttpRequest request = HttpRequest.newBuilder(uri)
            .timeout(TIMEOUT)
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json-patch+json")
            .header("Accept", "application/json")
            .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(mapper.writeValueAsBytes(patch)))
            .build();
        final HttpResponse<String> response;
        try
        {
            response = client.send(request, HttpResponse.BodyHandlers.ofString());
        }
        catch (final IOException ex)
        {
            // The HTTP client's own exceptions often have no message (a refused connection says "null").
            throw new IOException("cannot reach the API server at " + access.server() + ": " + ex, ex);
        }
        if (response.statusCode() / 100 != 2)
        {
            throw new IOException("the API server answered " + response.statusCode() + " to patching node " + node +
                ": " + response.body().strip());
        }
    }
}
