package dev.bitfusion.health;

import dev.bitfusion.health.check.CudaToolkitCheck;
import dev.bitfusion.health.check.CudnnCheck;
import dev.bitfusion.health.check.InstallCheck;
import dev.bitfusion.health.check.LibraryDependencyCheck;
import dev.bitfusion.health.check.MtuCheck;
import dev.bitfusion.health.check.NetworkErrorsCheck;
import dev.bitfusion.health.check.OpenFilesLimitCheck;
import dev.bitfusion.health.check.PcieLinkWidthCheck;
import dev.bitfusion.health.check.ShadowMemoryCheck;
import dev.bitfusion.health.check.SubnetCompatibilityCheck;
import dev.bitfusion.health.check.XidErrorCheck;
import dev.bitfusion.health.host.HostView;

import java.util.ArrayList;
import java.util.List;

/**
 * The localhost section of {@code bitfusion health}, and all of {@code bitfusion localhealth}.
 * <p>
 * {@code bitfusion localhealth} from the CLI ({@link HealthRun} does {@code bitfusion health}):
 * <pre>{@code
 * List<HealthReport> reports = List.of(LocalHealth.run(HostView.system(), LocalHealthOptions.forInstall(root)));
 * (json ? new JsonReportWriter() : new TextReportWriter()).write(reports, System.out);
 * return HealthReport.exitCode(reports);
 * }</pre>
 * What each check reads: {@code /proc/self/limits} (ulimit -n), {@code /proc/meminfo} (shadow memory),
 * {@code /sys/class/net/*}{@code /{mtu,speed,statistics}} (MTU, network errors),
 * {@code /sys/bus/pci/devices/*}{@code /{vendor,class,current_link_width,max_link_width}} (PCIe),
 * {@code dmesg} through the command runner (Xid errors), LD_LIBRARY_PATH, CUDA_HOME and
 * {@code /usr/local/cuda*}{@code /version.{json,txt}} (CUDA toolkit), {@code libcudnn.so*} in the library
 * directories (cuDNN), the install root (install check), the native loader (library dependency) and the
 * {@link dev.bitfusion.health.host.NetworkView} (interface/subnet). All go through the {@link HostView}.
 * <p>
 * A server runs {@link #hostChecks(HostView, HealthThresholds)} on its own host, adds
 * {@link dev.bitfusion.health.check.LibraryDependencyCheck} lines for its JCuda natives if it likes, and
 * ships the results in {@link dev.bitfusion.health.server.ServerFacts#hostChecks()}.
 * <p>
 * Stateless and thread-safe.
 */
public final class LocalHealth
{
    private LocalHealth()
    {
    }

    /**
     * @param host the host to probe, {@link HostView#system()} for real.
     * @return the localhost section with default options: no servers, no install root.
     */
    public static HealthReport run(final HostView host)
    {
        return run(host, LocalHealthOptions.defaults());
    }

    /**
     * @param host    the host to probe.
     * @param options servers, install root, native libraries and thresholds.
     * @return the localhost section.
     */
    public static HealthReport run(final HostView host, final LocalHealthOptions options)
    {
        final List<CheckResult> results = new ArrayList<>();

        results.add(LibraryDependencyCheck.jvm(host));
        for (final String library : options.nativeLibraries())
        {
            results.add(LibraryDependencyCheck.nativeLibrary(host, library));
        }
        results.add(new CudaToolkitCheck().run(host));
        results.add(new CudnnCheck().run(host));

        results.add(InstallCheck.run(host, options.installRoot()));
        results.add(ShadowMemoryCheck.run(host, options.gpuMemoryBytes()));

        if (options.servers().isEmpty())
        {
            results.add(SubnetCompatibilityCheck.noServers());
        }
        for (final ServerAddress server : options.servers())
        {
            results.add(SubnetCompatibilityCheck.run(host, server));
        }
        results.add(new PcieLinkWidthCheck().run(host));
        results.addAll(hostChecks(host, options.thresholds()));

        return new HealthReport(HealthReport.LOCALHOST, results);
    }

    /**
     * The checks of a host's own settings and logs, the same on a client and a server. PCIe link width
     * is not among them: a server reports it per GPU in {@link dev.bitfusion.health.server.GpuFacts}, so
     * its section would otherwise show it twice.
     *
     * @param host       the host to probe.
     * @param thresholds the limits to check against.
     * @return ulimit -n, MTU, network errors and Xid errors, in that order.
     */
    public static List<CheckResult> hostChecks(final HostView host, final HealthThresholds thresholds)
    {
        return List.of(
            new OpenFilesLimitCheck(thresholds.minOpenFiles()).run(host),
            new MtuCheck(thresholds.minMtuBytes(), thresholds.highSpeedMbps()).run(host),
            new NetworkErrorsCheck().run(host),
            new XidErrorCheck().run(host));
    }
}
