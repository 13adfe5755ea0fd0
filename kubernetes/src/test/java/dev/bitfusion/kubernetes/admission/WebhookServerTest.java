package dev.bitfusion.kubernetes.admission;

import dev.bitfusion.kubernetes.tls.PemKeyMaterial;
import dev.bitfusion.kubernetes.tls.WebhookCertificates;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.fabric8.zjsonpatch.JsonPatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The webhook as the API server meets it: AdmissionReview v1 over real HTTPS, with a certificate the webhook
 * made and a client that trusts only its CA. Each answer's patch is applied to the pod as sent and the result
 * read back with fabric8.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebhookServerTest
{
    private static final String IMAGE = System.getProperty("bitfusion.test.image", "localhost/bitfusion:latest");
    /** test-image.sh's app image: bare Debian, no Java, no bitfusion. */
    private static final String APP_IMAGE = "localhost/bitfusion-test-app:latest";
    private static final String VERSION = "0.1.0-SNAPSHOT";
    private static final int CONCURRENT_REVIEWS = 100;

    private Path tls;

    private WebhookServer server;
    private HttpClient client;
    private URI mutate;

    /** One server for the class: its certificate costs several keytool runs. */
    @BeforeAll
    void start() throws IOException
    {
        tls = Files.createTempDirectory("bitfusion-webhook-tls");
        WebhookCertificates.write(WebhookCertificates.serviceNames("bitfusion-webhook", "bitfusion-system"), tls);
        final InjectionSettings settings = new InjectionSettings().clientImage(IMAGE).clientVersion(VERSION)
            .gpuMemoryMib(16384).conclude();
        server = WebhookServer.start(new InetSocketAddress("127.0.0.1", 0),
            PemKeyMaterial.serverContext(tls.resolve(WebhookCertificates.CERTIFICATE_FILE),
                tls.resolve(WebhookCertificates.KEY_FILE)),
            new AdmissionReviewHandler(AdmissionReviews.MAPPER, new PodMutator(settings)), 8);
        client = HttpClient.newBuilder()
            .sslContext(PemKeyMaterial.clientContext(tls.resolve(WebhookCertificates.CA_FILE)))
            // The cold round opens a hundred TLS connections at once on a cold JVM; on two shared cores that takes seconds.
            .connectTimeout(Duration.ofSeconds(30))
            .build();
        mutate = URI.create("https://localhost:" + server.address().getPort() + WebhookServer.MUTATE_PATH);
    }

    @AfterAll
    void stop() throws IOException
    {
        server.close();
        try (var files = Files.list(tls))
        {
            for (final Path file : files.toList())
            {
                Files.delete(file);
            }
        }
        Files.delete(tls);
    }

    @Test
    void shouldPrefixCommandAndChargePercentWhenModeIsAll() throws Exception
    {
        final Pod pod = AdmissionReviews.pod(Map.of(PodContract.MANAGEMENT_ANNOTATION, "all"),
            Map.of(PodContract.GPU_AMOUNT_RESOURCE, "1", PodContract.GPU_PERCENT_RESOURCE, "50"),
            List.of("python3", "train.py"));
        final Pod mutated = mutatedPod(pod, "uid-all-percent");

        assertEquals(PodContract.STATUS_INJECTED, mutated.getMetadata().getAnnotations().get(PodContract.STATUS_ANNOTATION));
        final Container trainer = mutated.getSpec().getContainers().get(0);
        assertEquals(List.of("/bitfusion/bin/bitfusion", "run", "-n", "1", "-p", "0.5", "--", "python3", "train.py"),
            trainer.getCommand());
        assertEquals(List.of("--epochs", "3"), trainer.getArgs());
        assertEquals(new Quantity("50"), trainer.getResources().getLimits().get(PodContract.GPU_RESOURCE));
        assertEquals(new Quantity("50"), trainer.getResources().getRequests().get(PodContract.GPU_RESOURCE));
        assertFalse(trainer.getResources().getLimits().containsKey(PodContract.GPU_PERCENT_RESOURCE));
        assertFalse(trainer.getResources().getLimits().containsKey(PodContract.GPU_AMOUNT_RESOURCE));
        assertEquals(new Quantity("1Gi"), trainer.getResources().getLimits().get("memory"));
        assertTrue(trainer.getVolumeMounts().stream().anyMatch(mount ->
            mount.getName().equals(PodMutator.CLIENT_VOLUME) && mount.getMountPath().equals("/bitfusion") && mount.getReadOnly()));
        assertTrue(trainer.getVolumeMounts().stream().anyMatch(mount ->
            mount.getName().equals(PodMutator.SERVERS_VOLUME) && mount.getMountPath().equals("/etc/bitfusion")));
        assertEquals("bitfusion-token", trainer.getEnv().get(0).getValueFrom().getSecretKeyRef().getName());

        final Container init = mutated.getSpec().getInitContainers().get(0);
        assertEquals(PodMutator.CLIENT_VOLUME, init.getName());
        assertEquals(IMAGE, init.getImage());
        assertEquals(List.of("cp", "-a", "/opt/bitfusion/.", "/bitfusion/"), init.getCommand());
        final Volume client = volume(mutated, PodMutator.CLIENT_VOLUME);
        assertNotNull(client.getEmptyDir());
        assertEquals("bitfusion-servers", volume(mutated, PodMutator.SERVERS_VOLUME).getConfigMap().getName());
        assertEquals("Memory", volume(mutated, PodMutator.SHM_VOLUME).getEmptyDir().getMedium());
        assertTrue(trainer.getVolumeMounts().stream().anyMatch(mount ->
            mount.getName().equals(PodMutator.SHM_VOLUME) && mount.getMountPath().equals("/dev/shm")));

        final Container sidecar = mutated.getSpec().getContainers().get(1);
        assertEquals(List.of("sh", "-c", "sleep 1"), sidecar.getCommand());
        assertTrue(null == sidecar.getVolumeMounts() || sidecar.getVolumeMounts().isEmpty());
    }

    @Test
    void shouldAskForMibAndChargeTheirShareWhenGpuMemoryIsGiven() throws Exception
    {
        final Pod pod = AdmissionReviews.pod(Map.of(PodContract.MANAGEMENT_ANNOTATION, "all"),
            Map.of(PodContract.GPU_AMOUNT_RESOURCE, "2", PodContract.GPU_MEMORY_RESOURCE, "4096"), List.of("./infer"));
        final Container trainer = mutatedPod(pod, "uid-memory").getSpec().getContainers().get(0);

        assertEquals(List.of("/bitfusion/bin/bitfusion", "run", "-n", "2", "-m", "4096", "--", "./infer"),
            trainer.getCommand());
        // 4096 of 16384 MiB is 25 units a GPU, on two GPUs.
        assertEquals(new Quantity("50"), trainer.getResources().getLimits().get(PodContract.GPU_RESOURCE));
    }

    @Test
    void shouldAskForWholeGpusWhenOnlyAnAmountIsGiven() throws Exception
    {
        final Pod pod = AdmissionReviews.pod(Map.of(PodContract.MANAGEMENT_ANNOTATION, "all"),
            Map.of(PodContract.GPU_AMOUNT_RESOURCE, "2"), List.of("./train"));
        final Container trainer = mutatedPod(pod, "uid-amount").getSpec().getContainers().get(0);

        assertEquals(List.of("/bitfusion/bin/bitfusion", "run", "-n", "2", "-p", "1", "--", "./train"), trainer.getCommand());
        assertEquals(new Quantity("200"), trainer.getResources().getLimits().get(PodContract.GPU_RESOURCE));
    }

    @Test
    void shouldInjectWithoutTouchingTheCommandWhenModeIsInjection() throws Exception
    {
        final Pod pod = AdmissionReviews.pod(Map.of(PodContract.MANAGEMENT_ANNOTATION, "injection"),
            Map.of(PodContract.GPU_PERCENT_RESOURCE, "25"), null);
        final Pod mutated = mutatedPod(pod, "uid-injection");
        final Container trainer = mutated.getSpec().getContainers().get(0);

        assertTrue(trainer.getCommand().isEmpty(), trainer.getCommand().toString());
        assertEquals(new Quantity("25"), trainer.getResources().getLimits().get(PodContract.GPU_RESOURCE));
        assertEquals(PodMutator.CLIENT_VOLUME, mutated.getSpec().getInitContainers().get(0).getName());
        assertTrue(trainer.getVolumeMounts().stream().anyMatch(mount -> mount.getMountPath().equals("/bitfusion")));
    }

    @Test
    void shouldUseTheFilteredServersWhenAFilterNamesThem() throws Exception
    {
        final Pod pod = AdmissionReviews.pod(Map.of(PodContract.MANAGEMENT_ANNOTATION, "all",
                PodContract.FILTER_ANNOTATION, "[server.addr=10.1.2.3:56001, server.addr=10.1.2.4:56001]",
                PodContract.VERSION_ANNOTATION, "0.1.0"),
            Map.of(PodContract.GPU_PERCENT_RESOURCE, "10"), List.of("./train"));
        final Container trainer = mutatedPod(pod, "uid-filter").getSpec().getContainers().get(0);

        assertEquals(List.of("/bitfusion/bin/bitfusion", "run", "-n", "1", "-p", "0.1",
            "--server_list", "10.1.2.3:56001,10.1.2.4:56001", "--", "./train"), trainer.getCommand());
    }

    /**
     * The pod as the API server sends it, written out rather than made by fabric8: defaulted fields, empty
     * objects, null timestamps. The patch must apply to that text, not only to fabric8's rendering of it.
     */
    @Test
    void shouldPatchThePodAsTheApiServerWritesIt() throws Exception
    {
        final String pod = """
            {"kind": "Pod", "apiVersion": "v1",
             "metadata": {"generateName": "train-", "namespace": "team-a", "creationTimestamp": null,
               "labels": {"bitfusion.io/webhook": "enabled"},
               "annotations": {"auto-management/bitfusion": "all"}},
             "spec": {
               "volumes": [{"name": "kube-api-access-x", "projected": {"sources": [{"serviceAccountToken":
                 {"expirationSeconds": 3607, "path": "token"}}], "defaultMode": 420}}],
               "containers": [{"name": "trainer", "image": "train:1", "command": ["python3", "train.py"],
                 "resources": {"limits": {"bitfusion.io/gpu-percent": "30", "memory": "2Gi"},
                   "requests": {"bitfusion.io/gpu-percent": "30", "memory": "2Gi"}},
                 "volumeMounts": [{"name": "kube-api-access-x", "readOnly": true,
                   "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
                 "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                 "imagePullPolicy": "IfNotPresent", "securityContext": {}}],
               "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
               "serviceAccountName": "default", "securityContext": {}, "schedulerName": "default-scheduler",
               "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300}],
               "priority": 0, "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority"},
             "status": {}}
            """;
        final ObjectNode review = AdmissionReviews.review("uid-raw", AdmissionReviews.MAPPER.readTree(pod));
        final JsonNode response = post(review).get("response");
        final Pod mutated = apply(review, response);
        final Container trainer = mutated.getSpec().getContainers().get(0);

        assertEquals(List.of("/bitfusion/bin/bitfusion", "run", "-n", "1", "-p", "0.3", "--", "python3", "train.py"),
            trainer.getCommand());
        assertEquals(new Quantity("30"), trainer.getResources().getRequests().get(PodContract.GPU_RESOURCE));
        assertEquals(new Quantity("2Gi"), trainer.getResources().getRequests().get("memory"));
        assertEquals("/var/run/secrets/kubernetes.io/serviceaccount", trainer.getVolumeMounts().get(0).getMountPath());
        assertEquals(4, trainer.getVolumeMounts().size());
        assertEquals("kube-api-access-x", mutated.getSpec().getVolumes().get(0).getName());
        assertEquals(Long.valueOf(300), mutated.getSpec().getTolerations().get(0).getTolerationSeconds());
    }

    @Test
    void shouldLeaveThePodAloneWhenNotOptedIn() throws Exception
    {
        for (final Map<String, String> annotations : List.of(Map.<String, String>of(),
            Map.of(PodContract.MANAGEMENT_ANNOTATION, "none")))
        {
            final Pod pod = AdmissionReviews.pod(annotations, Map.of(PodContract.GPU_PERCENT_RESOURCE, "50"),
                List.of("./train"));
            final JsonNode response = post(AdmissionReviews.review("uid-none", pod)).get("response");

            assertEquals("uid-none", response.get("uid").asString());
            assertTrue(response.get("allowed").asBoolean());
            assertFalse(response.has("patch"), response.toString());
        }
    }

    @Test
    void shouldNotChangeAPodTwice() throws Exception
    {
        final Pod pod = AdmissionReviews.pod(Map.of(PodContract.MANAGEMENT_ANNOTATION, "all"),
            Map.of(PodContract.GPU_PERCENT_RESOURCE, "50"), List.of("./train"));
        final Pod once = mutatedPod(pod, "uid-first");
        final JsonNode again = post(AdmissionReviews.review("uid-second", once)).get("response");

        assertTrue(again.get("allowed").asBoolean());
        assertFalse(again.has("patch"), again.toString());
    }

    @Test
    void shouldDenyAGpuContainerWithoutCommandSayingWhatToAdd() throws Exception
    {
        final Pod pod = AdmissionReviews.pod(Map.of(PodContract.MANAGEMENT_ANNOTATION, "all"),
            Map.of(PodContract.GPU_PERCENT_RESOURCE, "50"), null);
        final JsonNode response = post(AdmissionReviews.review("uid-no-command", pod)).get("response");

        assertEquals("uid-no-command", response.get("uid").asString());
        assertFalse(response.get("allowed").asBoolean());
        assertFalse(response.has("patch"));
        assertEquals(403, response.get("status").get("code").asInt());
        final String message = response.get("status").get("message").asString();
        assertTrue(message.contains("container trainer has no command") && message.contains("Add command: [...]"),
            message);
    }

    @Test
    void shouldDenyWhatItCannotHonourWithTheReason() throws Exception
    {
        final Map<Map<String, String>, String> cases = Map.of(
            Map.of(PodContract.MANAGEMENT_ANNOTATION, "all", PodContract.VERSION_ANNOTATION, "4.5.0"),
            "this webhook injects " + VERSION,
            Map.of(PodContract.MANAGEMENT_ANNOTATION, "all", PodContract.FILTER_ANNOTATION, "device.name=V100"),
            "\"device.name=V100\" is not one",
            Map.of(PodContract.MANAGEMENT_ANNOTATION, "yes"),
            "is not one of all, injection, none");
        for (final Map.Entry<Map<String, String>, String> entry : cases.entrySet())
        {
            final Pod pod = AdmissionReviews.pod(entry.getKey(), Map.of(PodContract.GPU_PERCENT_RESOURCE, "50"),
                List.of("./train"));
            final JsonNode response = post(AdmissionReviews.review("uid-deny", pod)).get("response");

            assertFalse(response.get("allowed").asBoolean(), response.toString());
            assertTrue(response.get("status").get("message").asString().contains(entry.getValue()), response.toString());
        }
        for (final String percent : List.of("0", "101", "12.5"))
        {
            final Pod pod = AdmissionReviews.pod(Map.of(PodContract.MANAGEMENT_ANNOTATION, "all"),
                Map.of(PodContract.GPU_PERCENT_RESOURCE, percent), List.of("./train"));
            final JsonNode response = post(AdmissionReviews.review("uid-percent", pod)).get("response");

            assertFalse(response.get("allowed").asBoolean(), percent);
            assertTrue(response.get("status").get("message").asString().contains("whole number from 1 to 100"),
                response.toString());
        }
    }

    @Test
    void shouldAllowWhatIsNotAPodCreation() throws Exception
    {
        final ObjectNode review = AdmissionReviews.review("uid-update", AdmissionReviews.pod(
            Map.of(PodContract.MANAGEMENT_ANNOTATION, "all"), Map.of(), List.of("x")));
        ((ObjectNode)review.get("request")).put("operation", "UPDATE");
        final JsonNode response = post(review).get("response");

        assertTrue(response.get("allowed").asBoolean());
        assertFalse(response.has("patch"));
    }

    @Test
    void shouldAnswerBadRequestToWhatIsNotAReview() throws Exception
    {
        final HttpResponse<String> response = client.send(HttpRequest.newBuilder(mutate)
            .POST(HttpRequest.BodyPublishers.ofString("{\"kind\": \"AdmissionReview\"}")).build(),
            HttpResponse.BodyHandlers.ofString());

        assertEquals(400, response.statusCode());
        assertTrue(response.body().contains("no request"), response.body());
    }

    /**
     * A hundred reviews at once, each with its own uid and its own percentage, each answer checked against its
     * own pod. The first round warms the JIT and opens the connections, as a webhook serving an API server is
     * warm; the second is timed.
     */
    @Test
    void shouldAnswerConcurrentReviewsEachWithItsOwnPod() throws Exception
    {
        final ExecutorService callers = Executors.newFixedThreadPool(CONCURRENT_REVIEWS);
        try
        {
            final long[] cold = concurrentReviews(callers, "cold");
            final long[] warm = concurrentReviews(callers, "warm");
            final String report = String.format(
                "reviews=%d cold_p50_ms=%.1f cold_p99_ms=%.1f warm_p50_ms=%.1f warm_p99_ms=%.1f warm_max_ms=%.1f%n",
                CONCURRENT_REVIEWS, percentileMs(cold, 0.50), percentileMs(cold, 0.99), percentileMs(warm, 0.50),
                percentileMs(warm, 0.99), percentileMs(warm, 1.0));
            System.out.print("webhook: " + report);
            Files.createDirectories(Path.of("target"));
            Files.writeString(Path.of("target", "webhook-latency.txt"), report);
        }
        finally
        {
            callers.shutdownNow();
        }
    }

    private long[] concurrentReviews(final ExecutorService callers, final String round) throws Exception
    {
        final CountDownLatch start = new CountDownLatch(1);
        final List<Future<Long>> answers = new ArrayList<>();
        for (int i = 1; i <= CONCURRENT_REVIEWS; i++)
        {
            final int percent = i;
            final String uid = round + "-" + percent;
            final ObjectNode review = AdmissionReviews.review(uid, AdmissionReviews.pod(
                Map.of(PodContract.MANAGEMENT_ANNOTATION, "all"),
                Map.of(PodContract.GPU_PERCENT_RESOURCE, Integer.toString(percent)), List.of("./train-" + percent)));
            answers.add(callers.submit(() ->
            {
                start.await();
                final long begin = System.nanoTime();
                final JsonNode response = post(review).get("response");
                final long latencyNs = System.nanoTime() - begin;
                assertEquals(uid, response.get("uid").asString());
                final Container trainer = apply(review, response).getSpec().getContainers().get(0);
                assertEquals(new Quantity(Integer.toString(percent)),
                    trainer.getResources().getLimits().get(PodContract.GPU_RESOURCE));
                assertEquals(List.of("/bitfusion/bin/bitfusion", "run", "-n", "1", "-p",
                    BigDecimal.valueOf(percent, 2).stripTrailingZeros().toPlainString(), "--",
                    "./train-" + percent), trainer.getCommand());
                return latencyNs;
            }));
        }
        start.countDown();
        final long[] latencies = new long[CONCURRENT_REVIEWS];
        for (int i = 0; i < CONCURRENT_REVIEWS; i++)
        {
            latencies[i] = answers.get(i).get(60, TimeUnit.SECONDS);
        }
        Arrays.sort(latencies);
        return latencies;
    }

    private static double percentileMs(final long[] sorted, final double percentile)
    {
        return sorted[Math.max(0, (int)Math.ceil(sorted.length * percentile) - 1)] / 1e6;
    }

    /**
     * Reviews the pod deploy/image/test-image.sh plays under podman: a pod asking for half a GPU, run on
     * the host's network against a server there, whose program comes from a host directory. The mutated pod
     * is written where that script reads it.
     */
    @Test
    void shouldWriteAMutatedPodThatPodmanCanPlay() throws Exception
    {
        final Path examples = Path.of(System.getProperty("bitfusion.test.examples",
            Path.of("..", "target", "image-test", "examples").toAbsolutePath().normalize().toString()));
        final Pod pod = new PodBuilder()
            .withNewMetadata().withName("vector-add").withAnnotations(Map.of(PodContract.MANAGEMENT_ANNOTATION, "all",
                PodContract.VERSION_ANNOTATION, VERSION)).endMetadata()
            .withNewSpec()
            .withHostNetwork(true)
            .withRestartPolicy("Never")
            .addNewContainer()
            .withName("app")
            .withImage(APP_IMAGE)
            .withCommand("/examples/vector_add")
            .withNewResources()
            .addToLimits(PodContract.GPU_AMOUNT_RESOURCE, new Quantity("1"))
            .addToLimits(PodContract.GPU_PERCENT_RESOURCE, new Quantity("50"))
            .endResources()
            .addNewVolumeMount().withName("examples").withMountPath("/examples").withReadOnly(true).endVolumeMount()
            .endContainer()
            .addNewVolume().withName("examples").withNewHostPath().withPath(examples.toString()).endHostPath().endVolume()
            .endSpec()
            .build();
        final Pod mutated = mutatedPod(pod, "uid-podman");

        assertEquals(List.of("/bitfusion/bin/bitfusion", "run", "-n", "1", "-p", "0.5", "--", "/examples/vector_add"),
            mutated.getSpec().getContainers().get(0).getCommand());
        final Path out = Path.of("target", "webhook", "mutated-pod.yaml");
        Files.createDirectories(out.getParent());
        Files.writeString(out, new KubernetesSerialization().asYaml(mutated), StandardCharsets.UTF_8);
    }

    private Pod mutatedPod(final Pod pod, final String uid) throws Exception
    {
        final ObjectNode review = AdmissionReviews.review(uid, pod);
        final JsonNode response = post(review).get("response");
        assertEquals(uid, response.get("uid").asString());
        assertTrue(response.get("allowed").asBoolean(), response.toString());
        return apply(review, response);
    }

    /** What the API server does with an answer: decode the patch, apply it to the object it sent. */
    private static Pod apply(final JsonNode review, final JsonNode response)
    {
        assertEquals("JSONPatch", response.get("patchType").asString(), response.toString());
        final JsonNode patch = AdmissionReviews.MAPPER.readTree(Base64.getDecoder().decode(response.get("patch").asString()));
        final JsonNode patched = JsonPatch.apply(patch, AdmissionReviews.object(review));
        return AdmissionReviews.MAPPER.treeToValue(patched, Pod.class);
    }

    private JsonNode post(final JsonNode review) throws IOException, InterruptedException
    {
        final HttpResponse<byte[]> response = client.send(HttpRequest.newBuilder(mutate)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(AdmissionReviews.MAPPER.writeValueAsBytes(review))).build(),
            HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
        final AdmissionReview answer = AdmissionReviews.MAPPER.readValue(response.body(), AdmissionReview.class);
        assertEquals("admission.k8s.io/v1", answer.getApiVersion());
        assertEquals("AdmissionReview", answer.getKind());
        return AdmissionReviews.MAPPER.readTree(response.body());
    }

    private static Volume volume(final Pod pod, final String name)
    {
        return pod.getSpec().getVolumes().stream().filter(volume -> volume.getName().equals(name)).findFirst()
            .orElseThrow(() -> new AssertionError("no volume " + name + " in " + pod.getSpec().getVolumes()));
    }
}
