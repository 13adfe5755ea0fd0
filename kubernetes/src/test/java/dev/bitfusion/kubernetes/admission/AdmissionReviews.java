package dev.bitfusion.kubernetes.admission;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pods and AdmissionReview requests as the API server sends them, for the webhook's tests.
 */
final class AdmissionReviews
{
    static final JsonMapper MAPPER = JsonMapper.builder().build();

    private AdmissionReviews()
    {
    }

    /**
     * @param annotations the pod's annotations.
     * @param limits      the GPU container's resource limits.
     * @param command     its command, or null for none.
     * @return a pod with that container and a sidecar asking for no GPU.
     */
    static Pod pod(final Map<String, String> annotations, final Map<String, String> limits, final List<String> command)
    {
        final Map<String, Quantity> quantities = new LinkedHashMap<>();
        limits.forEach((name, amount) -> quantities.put(name, new Quantity(amount)));
        quantities.put("memory", new Quantity("1Gi"));
        final ContainerBuilder trainer = new ContainerBuilder()
            .withName("trainer")
            .withImage("registry.example/train:1")
            .withArgs("--epochs", "3")
            .withNewResources().withLimits(quantities).endResources();
        if (null != command)
        {
            trainer.withCommand(command);
        }
        final Container sidecar = new ContainerBuilder().withName("logs").withImage("busybox:1")
            .withCommand("sh", "-c", "sleep 1").build();
        return new PodBuilder()
            .withNewMetadata().withName("train").withNamespace("team-a").withAnnotations(annotations).endMetadata()
            .withNewSpec().withContainers(trainer.build(), sidecar).withRestartPolicy("Never").endSpec()
            .build();
    }

    /**
     * @param uid the request's uid.
     * @param pod the pod being created.
     * @return the review's JSON tree.
     */
    static ObjectNode review(final String uid, final Object pod)
    {
        final ObjectNode review = MAPPER.createObjectNode();
        review.put("apiVersion", "admission.k8s.io/v1").put("kind", "AdmissionReview");
        final ObjectNode request = review.putObject("request");
        request.put("uid", uid);
        request.putObject("kind").put("group", "").put("version", "v1").put("kind", "Pod");
        request.putObject("resource").put("group", "").put("version", "v1").put("resource", "pods");
        request.put("namespace", "team-a").put("operation", "CREATE");
        request.putObject("userInfo").put("username", "alice");
        request.set("object", MAPPER.valueToTree(pod));
        request.put("dryRun", false);
        return review;
    }

    /**
     * @param review a review's JSON tree.
     * @return the pod in its request.
     */
    static JsonNode object(final JsonNode review)
    {
        return review.get("request").get("object");
    }
}
