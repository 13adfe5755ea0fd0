package dev.bitfusion.health.server;

/**
 * A GPU's compute mode, as CU_DEVICE_ATTRIBUTE_COMPUTE_MODE reports it.
 */
public enum ComputeMode
{
    DEFAULT,
    EXCLUSIVE_THREAD,
    PROHIBITED,
    EXCLUSIVE_PROCESS,
    UNKNOWN;

    /**
     * @param cuComputeMode the CUcomputemode value (0..3).
     * @return the mode, {@link #UNKNOWN} for any other value.
     */
    public static ComputeMode fromCuValue(final int cuComputeMode)
    {
        return switch (cuComputeMode)
        {
            case 0 -> DEFAULT;
            case 1 -> EXCLUSIVE_THREAD;
            case 2 -> PROHIBITED;
            case 3 -> EXCLUSIVE_PROCESS;
            default -> UNKNOWN;
        };
    }
}
