package dev.bitfusion.health.server;

import java.util.Objects;

/**
 * What a server reports about one of its GPUs for the health checks. Numbers use {@link #UNKNOWN} and
 * booleans null when the backend cannot tell.
 *
 * @param index                 the device ordinal on the server.
 * @param name                  e.g. "NVIDIA A100-SXM4-40GB" or "Emulated GPU".
 * @param memoryTotalBytes      total device memory.
 * @param temperatureC          current temperature, or {@link #UNKNOWN}.
 * @param ecc                   ECC state.
 * @param eccCorrectableErrors  volatile corrected ECC errors, or {@link #UNKNOWN}.
 * @param eccUncorrectableErrors volatile uncorrected ECC errors, or {@link #UNKNOWN}.
 * @param computeMode           the compute mode.
 * @param currentLinkWidth      current PCIe link width, or {@link #UNKNOWN}.
 * @param maxLinkWidth          maximum PCIe link width, or {@link #UNKNOWN}.
 * @param streamMemOps          CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_MEM_OPS, or null.
 * @param hostPointerOnDevice   CU_DEVICE_ATTRIBUTE_CAN_USE_HOST_POINTER_FOR_REGISTERED_MEM, or null.
 */
public record GpuFacts(
    int index,
    String name,
    long memoryTotalBytes,
    int temperatureC,
    EccState ecc,
    long eccCorrectableErrors,
    long eccUncorrectableErrors,
    ComputeMode computeMode,
    int currentLinkWidth,
    int maxLinkWidth,
    Boolean streamMemOps,
    Boolean hostPointerOnDevice)
{
    /**
     * A number the backend cannot report.
     */
    public static final int UNKNOWN = -1;

    /**
     * Validates the fields.
     *
     * @param index                  the device ordinal.
     * @param name                   the device name.
     * @param memoryTotalBytes       total device memory.
     * @param temperatureC           current temperature.
     * @param ecc                    ECC state.
     * @param eccCorrectableErrors   corrected ECC errors.
     * @param eccUncorrectableErrors uncorrected ECC errors.
     * @param computeMode            the compute mode.
     * @param currentLinkWidth       current PCIe link width.
     * @param maxLinkWidth           maximum PCIe link width.
     * @param streamMemOps           stream memory ops support.
     * @param hostPointerOnDevice    host pointer on device support.
     */
    public GpuFacts
    {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(ecc, "ecc");
        Objects.requireNonNull(computeMode, "computeMode");
    }

    /**
     * @return "GPU 0 (NVIDIA A100-SXM4-40GB)".
     */
    public String label()
    {
        return "GPU " + index + " (" + name + ")";
    }
}
