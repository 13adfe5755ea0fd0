package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.host.HostView;

import java.io.IOException;

/**
 * Host memory against the GPU memory it may have to shadow: copies are staged in host memory, and a
 * host with less memory than the GPUs it serves or uses swaps or fails under a full-memory workload.
 */
public final class ShadowMemoryCheck
{
    static final String MEMINFO = "/proc/meminfo";
    static final String NAME = "shadow memory (host memory >= GPU memory)";
    private static final long KIB = 1024;

    private ShadowMemoryCheck()
    {
    }

    /**
     * @param host             what to read.
     * @param gpuMemoryBytes   total GPU memory to compare with, 0 when unknown.
     * @return the report line.
     */
    public static CheckResult run(final HostView host, final long gpuMemoryBytes)
    {
        final long hostBytes;
        try
        {
            hostBytes = memTotalBytes(host);
        }
        catch (final IOException | NumberFormatException ex)
        {
            return result(HealthStatus.SKIPPED, "Cannot read MemTotal from " + MEMINFO + ": " + ex.getMessage());
        }
        return evaluate(hostBytes, gpuMemoryBytes);
    }

    /**
     * @param hostMemoryBytes total host memory.
     * @param gpuMemoryBytes  total GPU memory to compare with, 0 when unknown.
     * @return the report line.
     */
    public static CheckResult evaluate(final long hostMemoryBytes, final long gpuMemoryBytes)
    {
        final String host = "Host memory " + ByteSizes.gib(hostMemoryBytes);
        if (gpuMemoryBytes <= 0)
        {
            return result(HealthStatus.INFO, host + "; no GPU memory total to compare with");
        }
        final String gpu = "GPU memory " + ByteSizes.gib(gpuMemoryBytes);
        if (hostMemoryBytes >= gpuMemoryBytes)
        {
            return result(HealthStatus.PASS, host + " >= " + gpu);
        }
        return result(HealthStatus.MARGINAL, host + " < " + gpu + "; full-memory copies may swap or fail");
    }

    /**
     * @param host what to read.
     * @return MemTotal from {@code /proc/meminfo}, in bytes.
     * @throws IOException when the file cannot be read or has no MemTotal line.
     */
    public static long memTotalBytes(final HostView host) throws IOException
    {
        for (final String line : host.readTrimmed(MEMINFO).split("\n"))
        {
            if (line.startsWith("MemTotal:"))
            {
                final String[] fields = line.substring("MemTotal:".length()).trim().split("\\s+");
                return Long.parseLong(fields[0]) * KIB;
            }
        }
        throw new IOException("no MemTotal line");
    }

    private static CheckResult result(final HealthStatus status, final String detail)
    {
        return new CheckResult(CheckGroup.SYSTEM_RESOURCES, NAME, status, detail);
    }
}
