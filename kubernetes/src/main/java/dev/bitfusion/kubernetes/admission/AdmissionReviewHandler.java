package dev.bitfusion.kubernetes.admission;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import io.fabric8.zjsonpatch.DiffFlags;
import io.fabric8.zjsonpatch.JsonDiff;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.util.Base64;
import java.util.EnumSet;
import java.util.Map;

/**
 * One AdmissionReview (admission.k8s.io/v1) in, its answer out: the request's pod goes through the
 * {@link PodMutator}, and a change travels back as the RFC 6902 JSON patch from the pod as received to the pod
 * as changed, base64-encoded, with the request's uid echoed.
 * <p>
 * Thread safety: immutable; every review works on its own copies, so any number may run at once.
 */
public final class AdmissionReviewHandler
{
    /** The only API version of AdmissionReview served since Kubernetes 1.22 removed v1beta1. */
    public static final String API_VERSION = "admission.k8s.io/v1";
    private static final String PATCH_TYPE = "JSONPatch";
    private static final int FORBIDDEN = 403;

    private final JsonMapper mapper;
    private final PodMutator mutator;

    /**
     * @param mapper  reads and writes the Kubernetes model; thread safe once built.
     * @param mutator decides on each pod.
     */
    public AdmissionReviewHandler(final JsonMapper mapper, final PodMutator mutator)
    {
        this.mapper = mapper;
        this.mutator = mutator;
    }

    /**
     * @param body an AdmissionReview with a request, as JSON.
     * @return the AdmissionReview with the response, as JSON.
     * @throws IllegalArgumentException when the body is not such a review.
     */
    public byte[] review(final byte[] body)
    {
        final AdmissionReview review;
        try
        {
            review = mapper.readValue(body, AdmissionReview.class);
        }
        catch (final JacksonException ex)
        {
            throw new IllegalArgumentException("not an AdmissionReview: " + ex.getOriginalMessage(), ex);
        }
        final AdmissionRequest request = review.getRequest();
        if (null == request || null == request.getUid())
        {
            throw new IllegalArgumentException("the AdmissionReview has no request or no uid");
        }
        final AdmissionResponse response = respond(request);
        response.setUid(request.getUid());
        final AdmissionReview answer = new AdmissionReview();
        answer.setApiVersion(API_VERSION);
        answer.setKind("AdmissionReview");
        answer.setResponse(response);
        return mapper.writeValueAsBytes(answer);
    }

    private AdmissionResponse respond(final AdmissionRequest request)
    {
        final AdmissionResponse response = new AdmissionResponse();
        response.setAllowed(true);
        final boolean podCreate = null != request.getKind() && "Pod".equals(request.getKind().getKind()) &&
            "CREATE".equals(request.getOperation()) && null == request.getSubResource();
        if (!podCreate || null == request.getObject())
        {
            return response;
        }
        final Pod pod;
        try
        {
            pod = mapper.convertValue(request.getObject(), Pod.class);
        }
        catch (final JacksonException ex)
        {
            response.setAllowed(false);
            response.setStatus(new StatusBuilder().withCode(FORBIDDEN)
                .withMessage("bitfusion: the pod cannot be read: " + ex.getOriginalMessage()).build());
            return response;
        }
        // Both sides of the diff pass through the same model, so the patch holds the mutation and nothing else.
        final JsonNode before = mapper.valueToTree(pod);
        final PodAdmission admission = mutator.admit(pod);
        if (!admission.allowed())
        {
            response.setAllowed(false);
            response.setStatus(new StatusBuilder().withCode(FORBIDDEN).withReason("Forbidden")
                .withMessage(admission.message()).build());
            return response;
        }
        if (admission.changed())
        {
            final JsonNode patch = JsonDiff.asJson(before, mapper.valueToTree(pod),
                EnumSet.of(DiffFlags.OMIT_MOVE_OPERATION, DiffFlags.OMIT_COPY_OPERATION, DiffFlags.OMIT_VALUE_ON_REMOVE));
            response.setPatchType(PATCH_TYPE);
            response.setPatch(Base64.getEncoder().encodeToString(mapper.writeValueAsBytes(patch)));
            response.setAuditAnnotations(Map.of("mutation", admission.message()));
        }
        if (!admission.warnings().isEmpty())
        {
            response.setWarnings(admission.warnings());
        }
        return response;
    }
}
