package dev.bitfusion.cli;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.javaagent.AgentOptions;
import dev.bitfusion.agent.javaagent.NativeLibraries;
import dev.bitfusion.bridge.BridgeRuntime;
import dev.bitfusion.transport.Endpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Starts a job's program on GPUs held for it, for {@code bitfusion run} and {@code bitfusion client}: the same
 * environment and the same life for both.
 * <p>
 * Environment. Our libraries' directory (libcuda.so.1 and the NVML stand-in libnvidia-ml.so.1) comes first in the
 * program's library path; the servers, GPU indices and reservations ({@link HeldGpus}) tell every process of the job
 * which slices to attach to and share. A JVM program ({@code -- java -jar app.jar}) gets the Java agent through
 * {@code JAVA_TOOL_OPTIONS} instead of a JVM of the bridge's own: the agent loads our libraries into that JVM,
 * whatever {@code JAVA_HOME} says.
 * <p>
 * Life. Signals to this command (SIGTERM, SIGINT, SIGHUP) are passed on to the program, and its exit code is the
 * command's exit code (128 + signal when it was killed).
 * <p>
 * Thread safety: stateless; {@link #run} blocks the calling thread until the program has exited.
 */
final class ProgramLauncher
{
    /** The Java agent's jar, beside the distribution's lib/. */
    static final String AGENT_JAR = "bitfusion-agent.jar";
    /** Names the agent jar explicitly. */
    static final String AGENT_JAR_PROP_NAME = "bitfusion.agent.jar";
    /** The exit code when the program cannot be started, as a shell gives for a command not found. */
    static final int NOT_STARTED_EXIT_CODE = 127;

    private ProgramLauncher()
    {
    }

    /**
     * Run the program to its end.
     *
     * @param commandName names the command in what it prints, e.g. {@code run}.
     * @param command     the program and its arguments.
     * @param gpus        the GPUs held for it.
     * @param onSignal    what to do when a signal ended this command, once the program has gone (release what the
     *                    command holds before the JVM halts).
     * @return the program's exit code.
     */
    static int run(final String commandName, final List<String> command, final HeldGpus gpus, final Runnable onSignal)
        throws IOException, InterruptedException
    {
        final ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        putEnvironment(builder.environment(), gpus);

        final Process process;
        try
        {
            process = builder.start();
        }
        catch (final IOException ex)
        {
            System.err.println("bitfusion " + commandName + ": cannot start " + command.get(0) + ": " + ex.getMessage());
            return NOT_STARTED_EXIT_CODE;
        }
        // SIGTERM/SIGHUP/SIGINT to us reach the program: the JVM runs this hook on each of them, and what the command
        // holds is released once the program has gone, before the JVM halts.
        final Thread forward = new Thread(() ->
        {
            if (process.isAlive())
            {
                process.destroy();
                try
                {
                    process.waitFor();
                }
                catch (final InterruptedException ignore)
                {
                    Thread.currentThread().interrupt();
                }
            }
            onSignal.run();
        }, "bitfusion-" + commandName + "-signal-forward");
        Runtime.getRuntime().addShutdownHook(forward);
        final int exitCode = process.waitFor();
        try
        {
            Runtime.getRuntime().removeShutdownHook(forward);
        }
        catch (final IllegalStateException ignore)
        {
            // Already shutting down: the hook is running and the program has exited.
        }
        return exitCode;
    }

    /**
     * @param environment the program's environment, inherited from this command, changed in place.
     * @param gpus        the GPUs held for it.
     */
    static void putEnvironment(final Map<String, String> environment, final HeldGpus gpus) throws IOException
    {
        final Path libraryDir = NativeLibraries.extract(ProgramLauncher.class);
        final String inherited = environment.get("LD_LIBRARY_PATH");
        environment.put("LD_LIBRARY_PATH", libraryDir + (inherited == null || inherited.isEmpty() ? "" : ":" + inherited));
        environment.put(ClientSettings.SERVERS_ENV_NAME,
            gpus.servers().stream().distinct().map(Endpoint::toString).collect(Collectors.joining(",")));
        environment.put(ClientSettings.DEVICE_SERVERS_ENV_NAME,
            gpus.servers().stream().map(Endpoint::toString).collect(Collectors.joining(",")));
        environment.put(ClientSettings.GPU_COUNT_ENV_NAME, Integer.toString(gpus.gpuIndices().size()));
        environment.put(ClientSettings.GPU_INDICES_ENV_NAME,
            gpus.gpuIndices().stream().map(String::valueOf).collect(Collectors.joining(",")));
        environment.put(ClientSettings.RESERVATIONS_ENV_NAME, ClientSettings.reservationsText(gpus.reservations()));
        environment.remove(ClientSettings.MEMORY_FRACTION_ENV_NAME);
        environment.remove(ClientSettings.MEMORY_MB_ENV_NAME);
        if (gpus.memoryMb() > 0)
        {
            environment.put(ClientSettings.MEMORY_MB_ENV_NAME, Long.toString(gpus.memoryMb()));
        }
        else
        {
            environment.put(ClientSettings.MEMORY_FRACTION_ENV_NAME, Double.toString(gpus.memoryFraction()));
        }
        environment.put(BridgeRuntime.CLASSPATH_ENV_NAME, absoluteClassPath());
        environment.put(ClientSettings.CLIENT_ID_ENV_NAME, gpus.tag());
        environment.put(ClientSettings.ENCRYPT_ENV_NAME, gpus.encrypt() ? "1" : "0");
        environment.put("BITFUSION_JAVA_HOME", System.getProperty("java.home"));
        // A JVM program (and every JVM a script starts) takes the agent: it joins that JVM rather than starting
        // one of its own, and reserves lazily there, so helper JVMs that never touch a GPU hold nothing.
        final Path agent = agentJar();
        if (agent != null)
        {
            final String tools = environment.get(AgentOptions.JAVA_TOOL_OPTIONS_ENV_NAME);
            environment.put(AgentOptions.JAVA_TOOL_OPTIONS_ENV_NAME, "-javaagent:" + agent +
                (tools == null || tools.isBlank() ? "" : " " + tools));
        }
    }

    private static String absoluteClassPath()
    {
        return Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
            .map(entry -> Path.of(entry).toAbsolutePath().toString())
            .collect(Collectors.joining(java.io.File.pathSeparator));
    }

    /**
     * The Java agent, for JVM programs: beside the distribution's {@code lib/} (cli/target in a build tree), or
     * where {@code -Dbitfusion.agent.jar} says.
     *
     * @return the agent jar, or null when there is none.
     */
    static Path agentJar()
    {
        final String configured = System.getProperty(AGENT_JAR_PROP_NAME);
        if (configured != null && !configured.isBlank())
        {
            return Path.of(configured).toAbsolutePath();
        }
        try
        {
            final Path jar = Path.of(ProgramLauncher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            final Path agent = jar.toAbsolutePath().getParent().resolveSibling(AGENT_JAR);
            return Files.isRegularFile(agent) ? agent : null;
        }
        catch (final java.net.URISyntaxException | RuntimeException ex)
        {
            return null;
        }
    }
}
