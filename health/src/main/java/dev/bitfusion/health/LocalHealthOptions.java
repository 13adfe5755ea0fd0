package dev.bitfusion.health;

import java.util.List;
import java.util.Objects;

/**
 * What the localhost section needs beyond the host itself.
 *
 * @param servers          the configured servers, for interface/subnet compatibility; empty for
 *                         {@code bitfusion localhealth}.
 * @param gpuMemoryBytes   total GPU memory of the servers this client uses, for the shadow memory check;
 *                         0 when unknown.
 * @param installRoot      the distribution's root as an absolute path, or null when not run from one.
 * @param nativeLibraries  native libraries to load, as absolute paths, e.g. the distribution's
 *                         {@code lib/libcuda.so.1}.
 * @param thresholds       the limits to check against.
 */
public record LocalHealthOptions(
    List<ServerAddress> servers,
    long gpuMemoryBytes,
    String installRoot,
    List<String> nativeLibraries,
    HealthThresholds thresholds)
{
    /**
     * Copies the lists.
     *
     * @param servers         the configured servers.
     * @param gpuMemoryBytes  total GPU memory of the servers, 0 when unknown.
     * @param installRoot     the distribution's root, or null.
     * @param nativeLibraries native libraries to load.
     * @param thresholds      the limits to check against.
     */
    public LocalHealthOptions
    {
        servers = List.copyOf(servers);
        nativeLibraries = List.copyOf(nativeLibraries);
        Objects.requireNonNull(thresholds, "thresholds");
    }

    /**
     * @return no servers, no install root, no native libraries, default thresholds.
     */
    public static LocalHealthOptions defaults()
    {
        return new LocalHealthOptions(List.of(), 0, null, List.of(), HealthThresholds.DEFAULTS);
    }

    /**
     * @param installRoot the distribution's root, e.g. the parent of {@code bin/bitfusion}.
     * @return options for a distribution: its install check and its {@code lib/libcuda.so.1}.
     */
    public static LocalHealthOptions forInstall(final String installRoot)
    {
        return new LocalHealthOptions(
            List.of(), 0, installRoot, List.of(installRoot + "/lib/libcuda.so.1"), HealthThresholds.DEFAULTS);
    }

    /**
     * @param newServers the configured servers.
     * @param newGpuMemoryBytes total GPU memory of the servers, 0 when unknown.
     * @return these options with servers.
     */
    public LocalHealthOptions withServers(final List<ServerAddress> newServers, final long newGpuMemoryBytes)
    {
        return new LocalHealthOptions(newServers, newGpuMemoryBytes, installRoot, nativeLibraries, thresholds);
    }
}
