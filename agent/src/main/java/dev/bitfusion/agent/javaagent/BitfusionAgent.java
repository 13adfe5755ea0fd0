package dev.bitfusion.agent.javaagent;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * The entry point of {@code bitfusion-agent.jar}: {@code java -javaagent:bitfusion-agent.jar[=options] ...}.
 * <p>
 * The JVM puts the agent jar on the application's class path, so this class, the only one at the jar's root,
 * uses nothing but the JDK. Everything else (the client runtime, Aeron, Agrona, SnakeYAML, ByteBuddy, the
 * bridge) travels as jars under {@code BITFUSION-INF/lib/}, unpacked once per build into a directory of the
 * user's and loaded by a class loader of its own whose parent is the platform class loader: the application
 * neither sees those classes nor has its own versions of them (Spark ships its own Agrona, zstd and lz4)
 * replaced. The JDK packages Aeron and Agrona reach into, and the one the late shutdown hook needs, are opened
 * to that loader here, through {@link Instrumentation#redefineModule}, so the user adds nothing but
 * {@code -javaagent}. Then {@link AgentRuntime#start} runs inside the loader.
 * <p>
 * Thread safety: premain runs once, on the JVM's main thread, before {@code main}.
 */
public final class BitfusionAgent
{
    static final String LIBRARIES = "BITFUSION-INF/lib/";
    static final String BUILD_ID = "BITFUSION-INF/build-id";
    private static final String RUNTIME_CLASS = "dev.bitfusion.agent.javaagent.AgentRuntime";
    private static final Map<String, Boolean> JDK_PACKAGES = Map.of(
        "jdk.internal.misc", true, "java.nio", true, "sun.nio.ch", true, "jdk.internal.access", false);

    private BitfusionAgent()
    {
    }

    /**
     * @param arguments       what follows {@code =} in {@code -javaagent:...=}, see {@link AgentOptions}.
     * @param instrumentation the JVM's instrumentation.
     */
    public static void premain(final String arguments, final Instrumentation instrumentation) throws Exception
    {
        final ClassLoader loader = isolatedLoader(agentJar());
        openJdkPackages(instrumentation, loader.getUnnamedModule());
        Class.forName(RUNTIME_CLASS, true, loader)
            .getMethod("start", String.class, Instrumentation.class)
            .invoke(null, arguments, instrumentation);
    }

    /**
     * The agent jar, found by its build id on the system class path the JVM appended it to. Not this class's
     * own code source: an application whose class path holds our jars (a bitfusion server under
     * {@code bitfusion run}) loads this class from those.
     */
    private static Path agentJar() throws IOException, URISyntaxException
    {
        final Enumeration<URL> ids = ClassLoader.getSystemResources(BUILD_ID);
        while (ids.hasMoreElements())
        {
            final URL id = ids.nextElement();
            if (id.getProtocol().equals("jar"))
            {
                final String file = id.getPath();
                return Path.of(new URI(file.substring(0, file.indexOf("!/"))));
            }
        }
        throw new IOException("no " + BUILD_ID + " on the class path: -javaagent must name bitfusion-agent.jar");
    }

    /** The jars of BITFUSION-INF/lib, unpacked once per build id, in a loader that only the JDK is parent of. */
    private static ClassLoader isolatedLoader(final Path agentJar) throws IOException
    {
        try (JarFile jar = new JarFile(agentJar.toFile()))
        {
            final JarEntry idEntry = jar.getJarEntry(BUILD_ID);
            if (idEntry == null)
            {
                throw new IOException(agentJar + " is not a bitfusion agent jar: it lacks " + BUILD_ID);
            }
            final String buildId;
            try (InputStream in = jar.getInputStream(idEntry))
            {
                buildId = new String(in.readAllBytes(), StandardCharsets.US_ASCII).strip();
            }
            final Path dir = Path.of(System.getProperty("java.io.tmpdir"),
                "bitfusion-" + System.getProperty("user.name", "user"), "agent-" + buildId);
            final Path complete = dir.resolve(".complete");
            final List<URL> urls = new ArrayList<>();
            final boolean unpacked = Files.isRegularFile(complete);
            if (!unpacked)
            {
                Files.createDirectories(dir);
            }
            final Enumeration<JarEntry> entries = jar.entries();
            while (entries.hasMoreElements())
            {
                final JarEntry entry = entries.nextElement();
                if (entry.isDirectory() || !entry.getName().startsWith(LIBRARIES))
                {
                    continue;
                }
                final Path target = dir.resolve(entry.getName().substring(LIBRARIES.length()));
                if (!unpacked)
                {
                    final Path temporary = Files.createTempFile(dir, "unpacking", ".tmp");
                    try (InputStream in = jar.getInputStream(entry))
                    {
                        Files.copy(in, temporary, StandardCopyOption.REPLACE_EXISTING);
                    }
                    Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                }
                urls.add(target.toUri().toURL());
            }
            if (!unpacked)
            {
                Files.writeString(complete, buildId);
            }
            return new URLClassLoader("bitfusion-agent", urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
        }
    }

    /**
     * What every JVM running Aeron and Agrona is otherwise started with ({@code --add-opens}), granted to the
     * agent's loader alone, and {@code jdk.internal.access} exported for the shutdown hook that runs after the
     * application's (see {@link LateShutdownHook}).
     */
    private static void openJdkPackages(final Instrumentation instrumentation, final Module agent)
    {
        final Module base = Object.class.getModule();
        final Map<String, Set<Module>> opens = new java.util.HashMap<>();
        final Map<String, Set<Module>> exports = new java.util.HashMap<>();
        JDK_PACKAGES.forEach((name, open) -> (open ? opens : exports).put(name, Set.of(agent)));
        instrumentation.redefineModule(base, Set.of(), exports, opens, Set.of(), Map.of());
    }
}
