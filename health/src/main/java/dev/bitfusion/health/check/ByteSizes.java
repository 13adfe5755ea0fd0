package dev.bitfusion.health.check;

import java.util.Locale;

/**
 * Formats byte counts and rates for report details, in binary units for memory and decimal for rates
 * as network tools print them.
 */
public final class ByteSizes
{
    private static final double GIB = 1024.0 * 1024.0 * 1024.0;

    private ByteSizes()
    {
    }

    /**
     * @param bytes a memory size.
     * @return e.g. "15.6 GiB".
     */
    public static String gib(final long bytes)
    {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / GIB);
    }

    /**
     * @param bytesPerSec a rate.
     * @return e.g. "9.87 GB/s".
     */
    public static String gbPerSec(final double bytesPerSec)
    {
        return String.format(Locale.ROOT, "%.2f GB/s", bytesPerSec / 1e9);
    }
}
