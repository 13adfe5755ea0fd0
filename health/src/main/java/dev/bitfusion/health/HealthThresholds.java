package dev.bitfusion.health;

/**
 * The limits the checks compare against. Every check prints the limit it used, so a user can tell a
 * policy from a fault.
 *
 * @param minOpenFiles             soft {@code ulimit -n} below which many sessions run out of descriptors.
 * @param minMtuBytes              MTU expected on high-speed interfaces.
 * @param highSpeedMbps            link speed from which an interface counts as high-speed.
 * @param minCudaDriverVersion     CUDA version of the server's driver, as cuDriverGetVersion reports it
 *                                 (12000 = 12.0): CUDA 12 runtimes load kernels through cuLibrary*.
 * @param minDriverVersion         NVIDIA driver version, dotted, the first to support CUDA 12 on Linux.
 * @param temperatureLimitC        GPU temperature above which clocks are at risk of throttling.
 * @param temperatureCriticalC     GPU temperature at which the card is about to shut down.
 * @param maxLatencyNs             round trip to a server above which small CUDA calls get slow.
 * @param minBandwidthBytesPerSec  host-to-server copy bandwidth below which copies dominate.
 */
public record HealthThresholds(
    long minOpenFiles,
    int minMtuBytes,
    long highSpeedMbps,
    int minCudaDriverVersion,
    String minDriverVersion,
    int temperatureLimitC,
    int temperatureCriticalC,
    long maxLatencyNs,
    double minBandwidthBytesPerSec)
{
    /**
     * The thresholds {@code bitfusion health} uses unless told otherwise.
     */
    public static final HealthThresholds DEFAULTS = new HealthThresholds(
        4096, 4096, 10_000, 12_000, "525.60.13", 85, 95, 50_000, 1.0e9);
}
