package dev.bitfusion.agent.pool;

import dev.bitfusion.transport.Endpoint;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * One {@code --filter key=value} of {@code bitfusion run}: a GPU is a candidate only when every filter matches it.
 * The keys are Bitfusion's own spellings:
 * <ul>
 *     <li>{@code server.addr}: the server as configured, {@code HOST:PORT}; a value without a port (Bitfusion's own
 *     example is {@code server.addr=10.117.32.177}) matches that host on any port;</li>
 *     <li>{@code server.hostname}: the host name the server reports, in any case;</li>
 *     <li>{@code server.cuda-version}: the CUDA version it serves, {@code 12.4}; a shorter value matches every
 *     version it begins, part by part ({@code 12} matches 12.4, not 120.1);</li>
 *     <li>{@code server.driver-version}: its GPU driver's version, {@code 560.35.03} ({@code emulated} on the
 *     emulated GPU), matched as the CUDA version is;</li>
 *     <li>{@code device.id}: the GPU's index on its server, as list_gpus shows it;</li>
 *     <li>{@code device.name}: part of the GPU's name, in any case ({@code device.name=A100}: Bitfusion's example
 *     {@code device.name=Tesla} names a family, not a whole name);</li>
 *     <li>{@code device.phy-memory}: the GPU's whole memory in MiB, exactly.</li>
 * </ul>
 * Bitfusion documents {@code =} only, so that is the one comparison; list_gpus shows the values to filter on.
 * <p>
 * Thread safety: immutable.
 *
 * @param key   what is compared.
 * @param value what it must be.
 */
public record GpuFilter(Key key, String value)
{
    /**
     * What a filter compares.
     */
    public enum Key
    {
        SERVER_ADDR("server.addr"),
        SERVER_HOSTNAME("server.hostname"),
        SERVER_CUDA_VERSION("server.cuda-version"),
        SERVER_DRIVER_VERSION("server.driver-version"),
        DEVICE_ID("device.id"),
        DEVICE_NAME("device.name"),
        DEVICE_PHY_MEMORY("device.phy-memory");

        private final String spelling;

        Key(final String spelling)
        {
            this.spelling = spelling;
        }

        /**
         * @return the key as users write it.
         */
        public String spelling()
        {
            return spelling;
        }
    }

    /**
     * @param text {@code key=value}, as given to {@code --filter}.
     * @return the filter.
     * @throws IllegalArgumentException naming the keys when the key is unknown, and what is wrong when the value is.
     */
    public static GpuFilter parse(final String text)
    {
        final int equals = text.indexOf('=');
        if (equals < 0)
        {
            throw new IllegalArgumentException("filter '" + text + "' is not KEY=VALUE; the keys are " + keys());
        }
        final String name = text.substring(0, equals).strip();
        final String value = text.substring(equals + 1).strip();
        final Key key = Arrays.stream(Key.values()).filter(candidate -> candidate.spelling.equals(name))
            .findFirst()
            .orElseThrow(() -> new IllegalArgumentException("unknown filter key '" + name + "' in '" + text +
                "'; the keys are " + keys()));
        if (value.isEmpty())
        {
            throw new IllegalArgumentException("filter '" + text + "' has no value");
        }
        if (key == Key.DEVICE_ID || key == Key.DEVICE_PHY_MEMORY)
        {
            try
            {
                if (Long.parseLong(value) < 0)
                {
                    throw new NumberFormatException(value);
                }
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("filter '" + text + "': " + key.spelling + " is a number" +
                    (key == Key.DEVICE_PHY_MEMORY ? " of MiB" : "") + ", got '" + value + "'");
            }
        }
        if (key == Key.SERVER_ADDR && value.contains(":"))
        {
            Endpoint.parse(value); // A malformed port fails here, naming it, rather than matching nothing later.
        }
        return new GpuFilter(key, value);
    }

    /**
     * @return every key, as users write them.
     */
    public static String keys()
    {
        return Arrays.stream(Key.values()).map(Key::spelling).collect(Collectors.joining(", "));
    }

    /**
     * @param server where the server is, as configured.
     * @param info   what it reports.
     * @param gpu    one of its GPUs.
     * @return whether this filter lets the GPU be placed on.
     */
    public boolean matches(final Endpoint server, final GpuPoolInfo info, final GpuPoolInfo.Gpu gpu)
    {
        return switch (key)
        {
            case SERVER_ADDR -> value.contains(":") ? Endpoint.parse(value).equals(server) : value.equals(server.host());
            case SERVER_HOSTNAME -> value.equalsIgnoreCase(info.hostname());
            case SERVER_CUDA_VERSION -> versionMatches(info.cudaVersion());
            case SERVER_DRIVER_VERSION -> versionMatches(info.driverVersion());
            case DEVICE_ID -> Long.parseLong(value) == gpu.index();
            case DEVICE_NAME -> gpu.name().toLowerCase(Locale.ROOT).contains(value.toLowerCase(Locale.ROOT));
            case DEVICE_PHY_MEMORY -> Long.parseLong(value) == gpu.totalBytes() >> 20;
        };
    }

    /**
     * @return the filter as given: {@code key=value}.
     */
    public String toString()
    {
        return key.spelling + "=" + value;
    }

    private boolean versionMatches(final String reported)
    {
        return reported.equalsIgnoreCase(value) || reported.toLowerCase(Locale.ROOT).startsWith(
            value.toLowerCase(Locale.ROOT) + ".");
    }
}
