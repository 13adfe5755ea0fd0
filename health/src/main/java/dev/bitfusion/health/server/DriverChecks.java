package dev.bitfusion.health.server;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;

/**
 * Software versions of a server: the CUDA version of its driver, the NVIDIA driver version, and whether
 * client and server speak the same protocol and bitfusion version.
 */
public final class DriverChecks
{
    private DriverChecks()
    {
    }

    /**
     * @param facts      the server.
     * @param minVersion lowest acceptable cuDriverGetVersion value, e.g. 12000.
     * @return the report line.
     */
    public static CheckResult cudaVersion(final ServerFacts facts, final int minVersion)
    {
        final String name = "CUDA version >= " + minVersion;
        if (facts.emulated())
        {
            // The emulated server has no driver to ask; it reports -1 rather than borrowing a version.
            final String detail = facts.cudaDriverVersion() > 0 ?
                "emulated backend implements driver API version " + facts.cudaDriverVersion() + "; no NVIDIA driver" :
                "emulated backend: no NVIDIA driver, so no CUDA driver version";
            return result(CheckGroup.SOFTWARE_VERSIONS, name, HealthStatus.INFO, detail);
        }
        if (facts.cudaDriverVersion() <= 0)
        {
            return result(CheckGroup.SOFTWARE_VERSIONS, name, HealthStatus.SKIPPED, "Server did not report a CUDA version");
        }
        final HealthStatus status = facts.cudaDriverVersion() >= minVersion ? HealthStatus.PASS : HealthStatus.FATAL;
        return result(CheckGroup.SOFTWARE_VERSIONS, name, status, "Current version: " + facts.cudaDriverVersion());
    }

    /**
     * @param facts      the server.
     * @param minVersion lowest acceptable driver version, dotted, e.g. "525.60.13".
     * @return the report line.
     */
    public static CheckResult driverVersion(final ServerFacts facts, final String minVersion)
    {
        final String name = "GPU driver version >= " + minVersion;
        if (facts.emulated())
        {
            return result(CheckGroup.SOFTWARE_VERSIONS, name, HealthStatus.INFO, "emulated GPU: no NVIDIA driver");
        }
        if (null == facts.driverVersion() || facts.driverVersion().isBlank())
        {
            return result(CheckGroup.SOFTWARE_VERSIONS, name, HealthStatus.SKIPPED, "Server did not report a driver version");
        }
        final int comparison;
        try
        {
            comparison = compareDotted(facts.driverVersion(), minVersion);
        }
        catch (final NumberFormatException ex)
        {
            return result(CheckGroup.SOFTWARE_VERSIONS, name, HealthStatus.MARGINAL,
                "Unable to parse GPU driver version: " + facts.driverVersion());
        }
        final HealthStatus status = comparison >= 0 ? HealthStatus.PASS : HealthStatus.FATAL;
        return result(CheckGroup.SOFTWARE_VERSIONS, name, status, "Current version: " + facts.driverVersion());
    }

    /**
     * A different protocol version means requests would be misread, so a mismatch is FATAL.
     *
     * @param facts  the server.
     * @param client the client's versions.
     * @return the report line.
     */
    public static CheckResult apiMismatch(final ServerFacts facts, final ClientInfo client)
    {
        final String name = "GPU API mismatch (client and server protocol versions)";
        final String detail = "Client protocol " + client.protocolVersion() + " (bitfusion " +
            client.bitfusionVersion() + "), server protocol " + facts.protocolVersion() + " (bitfusion " +
            facts.bitfusionVersion() + ")";
        final HealthStatus status = client.protocolVersion() == facts.protocolVersion() ?
            HealthStatus.PASS : HealthStatus.FATAL;
        return result(CheckGroup.STABILITY, name, status, detail);
    }

    /**
     * @param left  a dotted version, e.g. "550.54.15".
     * @param right another.
     * @return negative, zero or positive as left is older, equal or newer; missing parts count as 0.
     * @throws NumberFormatException when a part is not a number.
     */
    public static int compareDotted(final String left, final String right)
    {
        // Parse every part before comparing, so "550.x" is rejected rather than judged by its first part.
        final long[] a = parts(left);
        final long[] b = parts(right);
        for (int i = 0; i < Math.max(a.length, b.length); i++)
        {
            final long x = i < a.length ? a[i] : 0;
            final long y = i < b.length ? b[i] : 0;
            if (x != y)
            {
                return Long.compare(x, y);
            }
        }
        return 0;
    }

    private static long[] parts(final String version)
    {
        final String[] text = version.trim().split("\\.");
        final long[] parts = new long[text.length];
        for (int i = 0; i < text.length; i++)
        {
            parts[i] = Long.parseLong(text[i]);
        }
        return parts;
    }

    private static CheckResult result(
        final CheckGroup group, final String name, final HealthStatus status, final String detail)
    {
        return new CheckResult(group, name, status, detail);
    }
}
