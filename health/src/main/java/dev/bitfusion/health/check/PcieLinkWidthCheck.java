package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.host.HostView;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * PCIe link width of every NVIDIA GPU against its maximum, from {@code current_link_width} and
 * {@code max_link_width} in sysfs: a card seated in a narrower slot, or one that trained down after a
 * fault, copies at a fraction of the speed. A width of 0 means the link is down.
 */
public final class PcieLinkWidthCheck implements HostCheck
{
    static final String NAME = "PCIe link width at maximum";
    static final String NO_ROOT = "Cannot perform PCIe diagnosis without root access";

    /**
     * {@inheritDoc}
     */
    public CheckResult run(final HostView host)
    {
        final List<Path> gpus;
        try
        {
            gpus = NvidiaGpuScanner.scan(host);
        }
        catch (final IOException ex)
        {
            return result(HealthStatus.SKIPPED, NO_ROOT);
        }
        if (gpus.isEmpty())
        {
            return result(HealthStatus.INFO, "No NVIDIA GPU on this host");
        }

        final List<String> down = new ArrayList<>();
        final List<String> narrow = new ArrayList<>();
        final List<String> full = new ArrayList<>();
        for (final Path gpu : gpus)
        {
            final String address = gpu.getFileName().toString();
            final int current;
            final int max;
            try
            {
                current = Integer.parseInt(HostView.readTrimmed(gpu.resolve("current_link_width")));
                max = Integer.parseInt(HostView.readTrimmed(gpu.resolve("max_link_width")));
            }
            catch (final IOException ex)
            {
                return result(HealthStatus.SKIPPED, NO_ROOT);
            }
            catch (final NumberFormatException ex)
            {
                narrow.add("GPU " + address + " unable to parse link width");
                continue;
            }

            if (0 == current)
            {
                down.add("GPU " + address + " PCIe link is down (x0 of x" + max + ")");
            }
            else if (current < max)
            {
                narrow.add("GPU " + address + " PCIe link width x" + current + " < max x" + max);
            }
            else
            {
                full.add(address + " x" + current);
            }
        }

        if (!down.isEmpty())
        {
            down.addAll(narrow);
            return result(HealthStatus.FATAL, String.join("; ", down));
        }
        if (!narrow.isEmpty())
        {
            return result(HealthStatus.MARGINAL, String.join("; ", narrow));
        }
        return result(HealthStatus.PASS, "All " + full.size() + " GPU(s) at max link width: " + String.join(", ", full));
    }

    private static CheckResult result(final HealthStatus status, final String detail)
    {
        return new CheckResult(CheckGroup.PERFORMANCE, NAME, status, detail);
    }
}
