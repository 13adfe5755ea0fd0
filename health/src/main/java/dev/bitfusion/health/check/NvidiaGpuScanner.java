package dev.bitfusion.health.check;

import dev.bitfusion.health.host.HostView;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds NVIDIA GPUs on the PCI bus from {@code /sys/bus/pci/devices/*}: vendor 0x10de and a display
 * controller class (0x03xxxx, VGA or 3D). Audio and USB functions of the same card have other classes.
 */
public final class NvidiaGpuScanner
{
    static final String PCI_DEVICES = "/sys/bus/pci/devices";
    static final String NVIDIA_VENDOR = "0x10de";
    private static final String DISPLAY_CLASS_PREFIX = "0x03";

    private NvidiaGpuScanner()
    {
    }

    /**
     * @param host what to read.
     * @return the PCI device directories of NVIDIA GPUs, sorted by bus address.
     * @throws IOException when the PCI device list cannot be read.
     */
    public static List<Path> scan(final HostView host) throws IOException
    {
        final List<Path> gpus = new ArrayList<>();
        final Path devices = host.path(PCI_DEVICES);
        if (!Files.isDirectory(devices))
        {
            return gpus;
        }

        try (DirectoryStream<Path> stream = Files.newDirectoryStream(devices))
        {
            for (final Path device : stream)
            {
                if (isNvidiaGpu(device))
                {
                    gpus.add(device);
                }
            }
        }
        gpus.sort(null);
        return gpus;
    }

    private static boolean isNvidiaGpu(final Path device)
    {
        try
        {
            return NVIDIA_VENDOR.equalsIgnoreCase(HostView.readTrimmed(device.resolve("vendor"))) &&
                HostView.readTrimmed(device.resolve("class")).toLowerCase().startsWith(DISPLAY_CLASS_PREFIX);
        }
        catch (final IOException ex)
        {
            return false;
        }
    }
}
