package dev.bitfusion.kubernetes.admission;

import java.util.Locale;

/**
 * What a pod's {@code auto-management/bitfusion} annotation asks of the webhook, as VMware Bitfusion's
 * integration defined it.
 * <p>
 * Thread safety: immutable.
 */
public enum ManagementMode
{
    /** Copy the client into the pod and prefix each GPU container's command with {@code bitfusion run}. */
    ALL,
    /** Copy the client into the pod and mount servers and token; the pod calls {@code bitfusion run} itself. */
    INJECTION,
    /** Leave the pod alone. */
    NONE;

    /**
     * @param annotation the annotation's value, or null when the pod has none.
     * @return the mode: {@link #NONE} when absent.
     * @throws IllegalArgumentException naming the accepted values when it is something else.
     */
    public static ManagementMode parse(final String annotation)
    {
        if (null == annotation)
        {
            return NONE;
        }
        switch (annotation.strip().toLowerCase(Locale.ROOT))
        {
            case "all":
                return ALL;
            case "injection":
                return INJECTION;
            case "none":
                return NONE;
            default:
                throw new IllegalArgumentException("annotation " + PodContract.MANAGEMENT_ANNOTATION + ": \"" +
                    annotation + "\" is not one of all, injection, none");
        }
    }
}
