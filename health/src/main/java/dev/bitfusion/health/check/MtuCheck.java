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
 * MTU of every high-speed interface, from {@code /sys/class/net/IF/mtu} and {@code speed}: bulk copies
 * at 1500 bytes a frame spend much of a fast link on headers and interrupts.
 * <p>
 * An interface whose speed cannot be read (down, virtual, or EINVAL from the driver) is not high-speed
 * as far as this check can tell, and is left out.
 */
public final class MtuCheck implements HostCheck
{
    private final int minMtuBytes;
    private final long highSpeedMbps;

    /**
     * @param minMtuBytes   MTU expected on high-speed interfaces.
     * @param highSpeedMbps link speed from which an interface counts as high-speed.
     */
    public MtuCheck(final int minMtuBytes, final long highSpeedMbps)
    {
        this.minMtuBytes = minMtuBytes;
        this.highSpeedMbps = highSpeedMbps;
    }

    /**
     * {@inheritDoc}
     */
    public CheckResult run(final HostView host)
    {
        final String mtuLabel = formatBytes(minMtuBytes);
        final String name = "MTU >= " + mtuLabel + " on interfaces >= " + highSpeedMbps + "Mbps";
        final List<Path> interfaces;
        try
        {
            interfaces = NetInterfaces.list(host);
        }
        catch (final IOException ex)
        {
            return result(name, HealthStatus.SKIPPED, "Cannot list " + NetInterfaces.CLASS_NET + ": " + ex.getMessage());
        }

        final List<String> low = new ArrayList<>();
        final List<String> good = new ArrayList<>();
        for (final Path dir : interfaces)
        {
            final String ifName = dir.getFileName().toString();
            final long speedMbps = readLong(dir.resolve("speed"));
            if (speedMbps < highSpeedMbps)
            {
                continue;
            }
            final long mtu = readLong(dir.resolve("mtu"));
            if (mtu < 0)
            {
                low.add(speedMbps + "Mbps interface " + ifName + " has unreadable MTU");
            }
            else if (mtu < minMtuBytes)
            {
                low.add(speedMbps + "Mbps interface " + ifName + " has low MTU: " + mtu + " < " + mtuLabel);
            }
            else
            {
                good.add(ifName + " " + mtu);
            }
        }

        if (!low.isEmpty())
        {
            return result(name, HealthStatus.MARGINAL, String.join("; ", low));
        }
        if (good.isEmpty())
        {
            return result(name, HealthStatus.INFO, "No interface at " + highSpeedMbps + "Mbps or faster");
        }
        return result(name, HealthStatus.PASS, "MTU of high-speed interfaces: " + String.join(", ", good));
    }

    private static long readLong(final Path file)
    {
        try
        {
            return Long.parseLong(HostView.readTrimmed(file));
        }
        catch (final IOException | NumberFormatException ex)
        {
            return -1;
        }
    }

    private static String formatBytes(final int bytes)
    {
        return 0 == bytes % 1024 ? (bytes / 1024) + "K" : Integer.toString(bytes);
    }

    private static CheckResult result(final String name, final HealthStatus status, final String detail)
    {
        return new CheckResult(CheckGroup.PERFORMANCE, name, status, detail);
    }
}
