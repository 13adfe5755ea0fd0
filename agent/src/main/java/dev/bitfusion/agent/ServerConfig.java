package dev.bitfusion.agent;

import dev.bitfusion.transport.Endpoint;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The servers file, {@code ~/.bitfusion/servers.conf} else {@code /etc/bitfusion/servers.conf}:
 * <pre>
 * servers:
 *   - addresses: [10.0.0.11:56001]
 *   - addresses:
 *       - 10.0.0.12:56001
 *       - 192.168.7.12:56001
 * </pre>
 * Each server lists the addresses it can be reached at; the first is the one used. An address without a
 * port gets the default port, and a {@code /prefix} suffix (an interface written as CIDR) is ignored.
 * <p>
 * Thread safety: stateless.
 */
public final class ServerConfig
{
    /** Where a user's own servers file is, under the home directory. */
    public static final String USER_FILE = ".bitfusion/servers.conf";
    /** Where the host's servers file is. */
    public static final Path SYSTEM_FILE = Path.of("/etc/bitfusion/servers.conf");

    private ServerConfig()
    {
    }

    /**
     * @param home the user's home directory.
     * @return the servers of the first servers file that exists, or none when there is none.
     * @throws IllegalArgumentException when that file cannot be read or is not a servers file.
     */
    public static List<Endpoint> discover(final Path home)
    {
        for (final Path file : List.of(home.resolve(USER_FILE), SYSTEM_FILE))
        {
            if (Files.isRegularFile(file))
            {
                return load(file);
            }
        }
        return new ArrayList<>();
    }

    /**
     * @param file a servers file.
     * @return its servers, in order.
     * @throws IllegalArgumentException when it cannot be read or is not a servers file.
     */
    public static List<Endpoint> load(final Path file)
    {
        try
        {
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot read servers file " + file + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * @param yaml   the file's text.
     * @param source where it came from, for messages.
     * @return its servers, in order.
     * @throws IllegalArgumentException saying what is wrong, naming the source.
     */
    public static List<Endpoint> parse(final String yaml, final String source)
    {
        final Object document;
        try
        {
            // SafeConstructor: plain maps, lists and scalars only, whatever tags the file holds.
            document = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
        }
        catch (final YAMLException ex)
        {
            throw new IllegalArgumentException("servers file " + source + " is not valid YAML: " + ex.getMessage(), ex);
        }

        final List<Endpoint> servers = new ArrayList<>();
        if (null == document)
        {
            return servers;
        }
        if (!(document instanceof Map<?, ?> root) || !(root.get("servers") instanceof List<?> entries))
        {
            throw malformed(source, "expected a top-level 'servers:' list");
        }
        for (final Object entry : entries)
        {
            if (!(entry instanceof Map<?, ?> server) || !(server.get("addresses") instanceof List<?> addresses) ||
                addresses.isEmpty())
            {
                throw malformed(source, "each server needs 'addresses:' with at least one HOST:PORT, got " + entry);
            }
            servers.add(endpoint(String.valueOf(addresses.get(0)), source));
        }
        return servers;
    }

    private static Endpoint endpoint(final String address, final String source)
    {
        String text = address.strip();
        final int prefix = text.indexOf('/');
        if (prefix >= 0)
        {
            text = text.substring(0, prefix);
        }
        try
        {
            return Endpoint.parse(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw malformed(source, ex.getMessage());
        }
    }

    private static IllegalArgumentException malformed(final String source, final String problem)
    {
        return new IllegalArgumentException("servers file " + source + ": " + problem);
    }
}
