package dev.bitfusion.kubernetes.admission;

import java.util.List;

/**
 * The webhook's answer for one pod: let it through as it is, let it through changed, or deny it with a
 * message that says what to change.
 * <p>
 * Thread safety: immutable.
 */
public final class PodAdmission
{
    private static final PodAdmission UNCHANGED = new PodAdmission(true, false, null, List.of());

    private final boolean allowed;
    private final boolean changed;
    private final String message;
    private final List<String> warnings;

    private PodAdmission(final boolean allowed, final boolean changed, final String message, final List<String> warnings)
    {
        this.allowed = allowed;
        this.changed = changed;
        this.message = message;
        this.warnings = List.copyOf(warnings);
    }

    /**
     * @return let the pod through as it is.
     */
    public static PodAdmission unchanged()
    {
        return UNCHANGED;
    }

    /**
     * @param summary  what was done, for the audit log.
     * @param warnings what the user should know, shown by kubectl.
     * @return let the pod through with the changes made to it.
     */
    public static PodAdmission changed(final String summary, final List<String> warnings)
    {
        return new PodAdmission(true, true, summary, warnings);
    }

    /**
     * @param message what is wrong and what to change, shown to the user.
     * @return refuse the pod.
     */
    public static PodAdmission denied(final String message)
    {
        return new PodAdmission(false, false, message, List.of());
    }

    /**
     * @return whether the pod may be created.
     */
    public boolean allowed()
    {
        return allowed;
    }

    /**
     * @return whether the pod was changed.
     */
    public boolean changed()
    {
        return changed;
    }

    /**
     * @return why it was denied, or what was changed; null when let through unchanged.
     */
    public String message()
    {
        return message;
    }

    /**
     * @return warnings for the user.
     */
    public List<String> warnings()
    {
        return warnings;
    }
}
