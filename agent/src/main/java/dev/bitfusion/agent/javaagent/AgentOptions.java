package dev.bitfusion.agent.javaagent;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.ServerConfig;
import dev.bitfusion.transport.Endpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The Java agent's options, each taken from the first layer that gives it: the agent's arguments
 * ({@code -javaagent:bitfusion-agent.jar=servers=gpu-host:56001,m=1024}), then {@code -Dbitfusion.*}, then the
 * {@code BITFUSION_*} environment {@code bitfusion run} sets, then servers.conf (servers only). The slice is
 * one option: the layer that names {@code p} or {@code m} gives both, so an argument {@code m=512} is not
 * mixed with a fraction from the environment.
 * <p>
 * Thread safety: immutable once resolved.
 */
public final class AgentOptions
{
    /** When the slice is reserved. */
    public enum Start
    {
        /** In premain, held for the JVM's life: the program never waits for a slice, nor finds none. */
        EAGER,
        /** On the first CUDA call: helper JVMs of a job that never touch a GPU hold nothing. */
        LAZY
    }

    /** What to do when no server answers in premain (eager start), or none is configured. */
    public enum NoServer
    {
        /** Exit before {@code main}, with the reason on stderr. */
        EXIT,
        /** Go on without GPUs: CUDA calls fail as on a machine with none, and stacks fall back to the CPU. */
        CONTINUE
    }

    /**
     * One option: its agent argument, system property and environment variable.
     */
    public enum Option
    {
        SERVERS("servers", "bitfusion.servers", ClientSettings.SERVERS_ENV_NAME,
            "HOST:PORT[,HOST:PORT...]: the first serves the slice (else servers.conf)"),
        GPUS("n", "bitfusion.gpus", ClientSettings.GPU_COUNT_ENV_NAME, "how many GPUs (1)"),
        FRACTION("p", "bitfusion.memory.fraction", ClientSettings.MEMORY_FRACTION_ENV_NAME,
            "slice: this fraction of each GPU's memory (1.0 when neither p nor m)"),
        MEGABYTES("m", "bitfusion.memory.mb", ClientSettings.MEMORY_MB_ENV_NAME, "slice: this many MiB of each GPU"),
        TOKEN("token", "bitfusion.token", ClientSettings.TOKEN_ENV_NAME, "the server's token"),
        TOKEN_FILE("token_file", "bitfusion.token.file", "BITFUSION_TOKEN_FILE",
            "a file holding the token (else ~/.bitfusion/token)"),
        START("start", "bitfusion.start", "BITFUSION_START",
            "eager (reserve in premain; the default) or lazy (at the first CUDA call; the default through JAVA_TOOL_OPTIONS)"),
        ON_NO_SERVER("on_no_server", "bitfusion.on.no.server", "BITFUSION_ON_NO_SERVER",
            "exit (before main, the default) or continue (without GPUs)"),
        TRACE("trace", "bitfusion.trace", "BITFUSION_TRACE", "log every forwarded driver call (false)");

        private final String argument;
        private final String property;
        private final String environment;
        private final String description;

        Option(final String argument, final String property, final String environment, final String description)
        {
            this.argument = argument;
            this.property = property;
            this.environment = environment;
            this.description = description;
        }

        public String argument()
        {
            return argument;
        }

        public String property()
        {
            return property;
        }

        public String environment()
        {
            return environment;
        }

        public String description()
        {
            return description;
        }
    }

    /** The environment variable through which the JVM takes options, and so the agent, from its surroundings. */
    public static final String JAVA_TOOL_OPTIONS_ENV_NAME = "JAVA_TOOL_OPTIONS";

    private final Map<Option, String> values;
    private final Map<Option, String> sources;
    private final List<Endpoint> servers;
    private final String serversSource;
    private final Start start;
    private final NoServer noServer;
    private final boolean trace;

    private AgentOptions(
        final Map<Option, String> values,
        final Map<Option, String> sources,
        final List<Endpoint> servers,
        final String serversSource,
        final Start start,
        final NoServer noServer,
        final boolean trace)
    {
        this.values = values;
        this.sources = sources;
        this.servers = servers;
        this.serversSource = serversSource;
        this.start = start;
        this.noServer = noServer;
        this.trace = trace;
    }

    /**
     * @param agentArguments what follows {@code =} in {@code -javaagent:bitfusion-agent.jar=...}, or null.
     * @param properties     the system properties.
     * @param environment    the environment.
     * @param home           the user's home, where servers.conf and the token file are looked for.
     * @return the options, every layer applied.
     * @throws IllegalArgumentException naming the option and the layer that gave a malformed value.
     */
    public static AgentOptions resolve(
        final String agentArguments, final Properties properties, final Map<String, String> environment, final Path home)
    {
        final Map<Option, String> arguments = parseArguments(agentArguments);
        final Map<Option, String> values = new LinkedHashMap<>();
        final Map<Option, String> sources = new LinkedHashMap<>();
        for (final Option option : Option.values())
        {
            if (option == Option.FRACTION || option == Option.MEGABYTES)
            {
                continue;
            }
            take(option, arguments, properties, environment, values, sources);
        }
        takeSlice(arguments, properties, environment, values, sources);

        final List<Endpoint> servers = new ArrayList<>();
        String serversSource = sources.get(Option.SERVERS);
        if (values.containsKey(Option.SERVERS))
        {
            for (final String part : values.get(Option.SERVERS).split("[,;]"))
            {
                if (!part.isBlank())
                {
                    servers.add(parse(Option.SERVERS, part.strip(), serversSource, Endpoint::parse));
                }
            }
        }
        else
        {
            servers.addAll(ServerConfig.discover(home));
            serversSource = servers.isEmpty() ? null : "servers.conf";
        }

        final String tools = environment.getOrDefault(JAVA_TOOL_OPTIONS_ENV_NAME, "");
        final Start start = values.containsKey(Option.START) ?
            parse(Option.START, values.get(Option.START), sources.get(Option.START),
                text -> Start.valueOf(text.toUpperCase(Locale.ROOT))) :
            tools.contains("-javaagent:") && tools.contains("bitfusion-agent") ? Start.LAZY : Start.EAGER;
        final NoServer noServer = values.containsKey(Option.ON_NO_SERVER) ?
            parse(Option.ON_NO_SERVER, values.get(Option.ON_NO_SERVER), sources.get(Option.ON_NO_SERVER),
                text -> NoServer.valueOf(text.toUpperCase(Locale.ROOT))) : NoServer.EXIT;
        final String traceText = values.getOrDefault(Option.TRACE, "false").strip();
        final boolean trace = !traceText.isEmpty() && !traceText.equals("0") && !traceText.equalsIgnoreCase("false");
        final AgentOptions options = new AgentOptions(values, sources, servers, serversSource, start, noServer, trace);
        options.settings(home, environment);
        return options;
    }

    /**
     * @return the servers, first the one that serves the slice; empty when none is configured anywhere.
     */
    public List<Endpoint> servers()
    {
        return servers;
    }

    public Start start()
    {
        return start;
    }

    public NoServer noServer()
    {
        return noServer;
    }

    public boolean trace()
    {
        return trace;
    }

    /**
     * @param home        where ~/.bitfusion/token is looked for.
     * @param environment for the client id tag {@code bitfusion run} gives its program.
     * @return the client settings these options describe, concluded.
     * @throws IllegalArgumentException when no server is configured, or a value is out of range.
     */
    public ClientSettings settings(final Path home, final Map<String, String> environment)
    {
        final ClientSettings settings = new ClientSettings();
        if (!servers.isEmpty())
        {
            settings.server(servers.get(0));
        }
        settings.gpuCount(parse(Option.GPUS, values.getOrDefault(Option.GPUS, "1"), sources.get(Option.GPUS),
            text -> Integer.parseInt(text.strip())));
        if (values.containsKey(Option.MEGABYTES))
        {
            settings.memoryMb(parse(Option.MEGABYTES, values.get(Option.MEGABYTES), sources.get(Option.MEGABYTES),
                text -> Long.parseLong(text.strip())));
        }
        else
        {
            settings.memoryFraction(parse(Option.FRACTION, values.getOrDefault(Option.FRACTION, "1.0"),
                sources.get(Option.FRACTION), text -> Double.parseDouble(text.strip())));
        }
        // Placed by bitfusion run, which hands its choice down with the servers, and the reservations it holds.
        settings.gpuIndices(ClientSettings.gpuIndicesFrom(environment));
        settings.deviceServers(ClientSettings.deviceServersFrom(environment));
        settings.reservations(ClientSettings.reservationsFrom(environment));
        final String token = token(home);
        if (token != null)
        {
            settings.token(token);
        }
        final String tag = environment.get(ClientSettings.CLIENT_ID_ENV_NAME);
        if (tag != null && !tag.isBlank())
        {
            settings.clientId(settings.clientId() + " [" + tag.strip() + "]");
        }
        return servers.isEmpty() ? settings : settings.conclude();
    }

    /**
     * @return the slice asked for, as people say it: "1 GPU with 0.5 of the memory each".
     */
    public String describeSlice()
    {
        final String gpus = values.getOrDefault(Option.GPUS, "1").strip();
        final String slice = values.containsKey(Option.MEGABYTES) ? values.get(Option.MEGABYTES).strip() + " MiB" :
            values.getOrDefault(Option.FRACTION, "1.0").strip() + " of the memory";
        return gpus + (gpus.equals("1") ? " GPU" : " GPUs") + " with " + slice + " each";
    }

    /**
     * @return where the servers came from: "agent arguments", "-Dbitfusion.servers", an environment variable's
     * name or "servers.conf"; null when none is configured.
     */
    public String serversSource()
    {
        return serversSource;
    }

    private String token(final Path home)
    {
        if (values.containsKey(Option.TOKEN))
        {
            return values.get(Option.TOKEN).strip();
        }
        if (values.containsKey(Option.TOKEN_FILE))
        {
            final Path file = home.resolve(values.get(Option.TOKEN_FILE).strip());
            try
            {
                return Files.readString(file, StandardCharsets.UTF_8).strip();
            }
            catch (final IOException ex)
            {
                throw new IllegalArgumentException("cannot read the token file " + file + " (" +
                    sources.get(Option.TOKEN_FILE) + "): " + ex.getMessage(), ex);
            }
        }
        return null;
    }

    private static void take(
        final Option option,
        final Map<Option, String> arguments,
        final Properties properties,
        final Map<String, String> environment,
        final Map<Option, String> values,
        final Map<Option, String> sources)
    {
        if (arguments.containsKey(option))
        {
            values.put(option, arguments.get(option));
            sources.put(option, "agent argument " + option.argument);
        }
        else if (properties.getProperty(option.property) != null)
        {
            values.put(option, properties.getProperty(option.property));
            sources.put(option, "-D" + option.property);
        }
        else if (environment.get(option.environment) != null && !environment.get(option.environment).isBlank())
        {
            values.put(option, environment.get(option.environment));
            sources.put(option, option.environment);
        }
    }

    /** The first layer naming either p or m gives the slice, whole. */
    private static void takeSlice(
        final Map<Option, String> arguments,
        final Properties properties,
        final Map<String, String> environment,
        final Map<Option, String> values,
        final Map<Option, String> sources)
    {
        final List<Map<Option, String>> layers = List.of(
            arguments,
            layer(option -> properties.getProperty(option.property)),
            layer(option -> environment.get(option.environment)));
        final List<String> names = List.of("agent argument ", "-D", "");
        for (int i = 0; i < layers.size(); i++)
        {
            final Map<Option, String> layer = layers.get(i);
            if (layer.containsKey(Option.FRACTION) || layer.containsKey(Option.MEGABYTES))
            {
                for (final Option option : List.of(Option.FRACTION, Option.MEGABYTES))
                {
                    if (layer.containsKey(option))
                    {
                        values.put(option, layer.get(option));
                        sources.put(option, names.get(i) + (i == 0 ? option.argument :
                            i == 1 ? option.property : option.environment));
                    }
                }
                return;
            }
        }
    }

    private static Map<Option, String> layer(final java.util.function.Function<Option, String> lookup)
    {
        final Map<Option, String> layer = new LinkedHashMap<>();
        for (final Option option : List.of(Option.FRACTION, Option.MEGABYTES))
        {
            final String value = lookup.apply(option);
            if (value != null && !value.isBlank())
            {
                layer.put(option, value);
            }
        }
        return layer;
    }

    /**
     * {@code key=value} pairs separated by commas; a piece without {@code =} continues the value before it, so
     * {@code servers=a:1,b:2,m=512} names two servers.
     */
    static Map<Option, String> parseArguments(final String text)
    {
        final Map<Option, String> arguments = new LinkedHashMap<>();
        if (text == null || text.isBlank())
        {
            return arguments;
        }
        Option last = null;
        for (final String piece : text.split(","))
        {
            final int equals = piece.indexOf('=');
            if (equals < 0)
            {
                if (last == null)
                {
                    throw new IllegalArgumentException("agent argument '" + piece + "' is not NAME=VALUE");
                }
                arguments.put(last, arguments.get(last) + "," + piece);
                continue;
            }
            final String name = piece.substring(0, equals).strip();
            last = null;
            for (final Option option : Option.values())
            {
                if (option.argument.equals(name))
                {
                    last = option;
                }
            }
            if (last == null)
            {
                throw new IllegalArgumentException("unknown agent argument '" + name + "': the agent takes " +
                    String.join(", ", java.util.Arrays.stream(Option.values()).map(Option::argument).toList()));
            }
            arguments.put(last, piece.substring(equals + 1));
        }
        return arguments;
    }

    private static <T> T parse(
        final Option option, final String text, final String source, final java.util.function.Function<String, T> parser)
    {
        try
        {
            return parser.apply(text);
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("bad value '" + text + "' for " + option.argument + " (from " + source +
                "): " + option.description, ex);
        }
    }
}
