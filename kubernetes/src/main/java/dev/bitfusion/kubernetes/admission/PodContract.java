package dev.bitfusion.kubernetes.admission;

/**
 * The names a pod uses to ask for remote GPUs, kept compatible with VMware Bitfusion's Kubernetes
 * integration so that its users' manifests work unchanged: the annotations that opt a pod in, the
 * resources that size its slice, and the one resource quotas count.
 * <p>
 * Thread safety: constants only.
 */
public final class PodContract
{
    /** {@code all}, {@code injection} or {@code none}: see {@link ManagementMode}. */
    public static final String MANAGEMENT_ANNOTATION = "auto-management/bitfusion";
    /** Set on a pod once mutated, so that a second pass (reinvocation, a replayed request) changes nothing. */
    public static final String STATUS_ANNOTATION = "auto-management/status";
    /** The value of {@link #STATUS_ANNOTATION} on a mutated pod. */
    public static final String STATUS_INJECTED = "injected";
    /** The client version a pod was written for; checked against the client this webhook injects. */
    public static final String VERSION_ANNOTATION = "bitfusion-client/version";
    /** Which servers to use, as {@code server.addr=HOST:PORT} terms. */
    public static final String FILTER_ANNOTATION = "bitfusion-client/filter";

    /** How many GPUs each GPU container gets (default 1). */
    public static final String GPU_AMOUNT_RESOURCE = "bitfusion.io/gpu-amount";
    /** The slice as a percentage of each GPU's memory, 1 to 100. */
    public static final String GPU_PERCENT_RESOURCE = "bitfusion.io/gpu-percent";
    /** The slice as MiB of each GPU's memory. */
    public static final String GPU_MEMORY_RESOURCE = "bitfusion.io/gpu-memory";
    /** What the request becomes for quota and scheduling: percent of a GPU, so 100 is one whole GPU. */
    public static final String GPU_RESOURCE = "bitfusion.io/gpu";
    /** {@link #GPU_RESOURCE} units in one whole GPU. */
    public static final int UNITS_PER_GPU = 100;

    private PodContract()
    {
    }
}
