package dev.bitfusion.health;

/**
 * Outcome of one health check, in increasing order of severity. Only {@link #FATAL} makes
 * {@code bitfusion health} exit non-zero: MARGINAL means slower than it could be, not broken.
 */
public enum HealthStatus
{
    /**
     * The check ran and the host meets the threshold printed in the detail.
     */
    PASS,

    /**
     * Worth knowing, neither good nor bad (e.g. no GPU on a client, the emulated backend).
     */
    INFO,

    /**
     * The check could not run here; the detail says why.
     */
    SKIPPED,

    /**
     * Works, but limits bandwidth, latency or stability.
     */
    MARGINAL,

    /**
     * Prevents bitfusion from working.
     */
    FATAL
}
