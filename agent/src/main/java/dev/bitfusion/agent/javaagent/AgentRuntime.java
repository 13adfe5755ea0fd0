package dev.bitfusion.agent.javaagent;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.RemoteDriver;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.instrument.Instrumentation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.bitfusion.cuda.CuResult.CUDA_SUCCESS;

/**
 * The Java agent inside its own class loader: puts our {@code libcuda.so.1} and the NVML stand-in in place,
 * reserves the slice (eager) or prepares to (lazy), and closes the session after the application's shutdown
 * hooks. The bridge, on its first forwarded call, takes the runtime prepared here ({@link #driver()}) rather
 * than building one from the environment.
 * <p>
 * Loading the libraries with {@code System.load} before {@code main}, before any GPU library, is what makes
 * them the driver: glibc binds every later {@code dlopen("libcuda.so.1")} and DT_NEEDED of that name to the
 * object already loaded with that SONAME, ahead of {@code LD_LIBRARY_PATH}. A driver loaded before ours would
 * win the same way, so the agent stays out when one is already mapped.
 * <p>
 * Thread safety: {@link #start} runs once, on the main thread in premain; {@link #driver()} is called by the
 * bridge from any thread and {@link #shutdown()} once, from the late shutdown hook.
 */
public final class AgentRuntime
{
    /** Published for the GPU detection advice, whose inlined code may use nothing but the JDK. */
    static final String GPU_COUNT_PROP_NAME = "bitfusion.gpu.count";
    /** Read by our libcuda.so.1 when it loads (JNI_OnLoad), so the trace covers the calls answered in C too. */
    static final String TRACE_PROP_NAME = "bitfusion.trace";
    private static final int EXIT_CANNOT_GET_SLICE = 3;
    private static final int EXIT_BAD_OPTIONS = 2;

    private static volatile ClientSettings settings;
    private static volatile RemoteDriver driver;
    private static volatile boolean withoutGpus;
    private static volatile boolean closed;

    private AgentRuntime()
    {
    }

    /**
     * Called by {@link BitfusionAgent#premain} inside the agent's class loader.
     *
     * @param arguments       the agent's arguments, or null.
     * @param instrumentation the JVM's instrumentation.
     */
    public static void start(final String arguments, final Instrumentation instrumentation)
    {
        final String loaded = mappedDriver();
        if (loaded != null)
        {
            System.err.println("bitfusion agent: a CUDA driver is already loaded in this JVM (" + loaded + "), so " +
                "it stays the driver and the agent does nothing: the agent must load before any GPU library, " +
                "from -javaagent on the command line or JAVA_TOOL_OPTIONS, not attached later");
            return;
        }
        final AgentOptions options;
        try
        {
            options = AgentOptions.resolve(arguments, System.getProperties(), System.getenv(),
                Path.of(System.getProperty("user.home")));
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("bitfusion agent: " + ex.getMessage());
            System.exit(EXIT_BAD_OPTIONS);
            return;
        }
        try
        {
            final Path libraries = NativeLibraries.extract(AgentRuntime.class);
            if (options.trace())
            {
                System.setProperty(TRACE_PROP_NAME, "true");
            }
            System.load(libraries.resolve(NativeLibraries.DRIVER).toString());
            System.load(libraries.resolve(NativeLibraries.NVML).toString());
        }
        catch (final IOException | UnsatisfiedLinkError ex)
        {
            System.err.println("bitfusion agent: cannot load our libcuda.so.1: " + ex.getMessage());
            System.exit(EXIT_CANNOT_GET_SLICE);
            return;
        }

        final ClientSettings wanted = options.settings(Path.of(System.getProperty("user.home")), System.getenv());
        if (options.servers().isEmpty())
        {
            noServer(options, "no server configured (agent argument servers=, -Dbitfusion.servers, " +
                "BITFUSION_SERVERS, ~/.bitfusion/servers.conf or /etc/bitfusion/servers.conf)");
        }
        else if (options.start() == AgentOptions.Start.EAGER)
        {
            final RemoteDriver opened = new RemoteDriver(wanted, deviceOutput(), System.err);
            if (opened.cuInit(0) != CUDA_SUCCESS)
            {
                opened.close();
                // The driver has just said why, on the line before.
                noServer(options, "cannot get " + options.describeSlice() + " from " + options.servers().get(0));
            }
            else
            {
                driver = opened;
                System.err.println("bitfusion agent: " + options.describeSlice() + " from " + options.servers().get(0) +
                    " (" + options.serversSource() + "), reserved now (session " + opened.session(0).sessionId() +
                    ") and held until the JVM exits");
            }
        }
        else
        {
            settings = wanted;
            System.err.println("bitfusion agent: " + options.describeSlice() + " from " + options.servers().get(0) +
                " (" + options.serversSource() + "), reserved at the first CUDA call (lazy)");
        }
        if (!withoutGpus)
        {
            System.setProperty(GPU_COUNT_PROP_NAME, Integer.toString(wanted.gpuCount()));
            GpuDetectionAdvice.install(instrumentation);
        }
        LateShutdownHook.register(AgentRuntime::shutdown);
    }

    /**
     * @return the runtime for the bridge: the one opened in premain (eager), one built now (lazy), or null when
     * no agent ran in this JVM.
     * @throws IllegalStateException when the agent runs without GPUs; the bridge answers CUDA_ERROR_NO_DEVICE.
     */
    public static RemoteDriver driver()
    {
        RemoteDriver current = driver;
        if (current == null && settings != null)
        {
            synchronized (AgentRuntime.class)
            {
                current = driver;
                if (current == null && !closed)
                {
                    current = new RemoteDriver(settings, deviceOutput(), System.err);
                    driver = current;
                }
            }
        }
        if (current == null && withoutGpus)
        {
            throw new IllegalStateException("the agent runs without GPUs");
        }
        return current;
    }

    /**
     * @return true when the agent decided in premain to go on without GPUs (on_no_server=continue).
     */
    public static boolean isWithoutGpus()
    {
        return withoutGpus;
    }

    /**
     * Closes the session: the server frees the slice at once. Runs after the application's shutdown hooks.
     */
    static void shutdown()
    {
        synchronized (AgentRuntime.class)
        {
            closed = true;
        }
        final RemoteDriver current = driver;
        if (current != null)
        {
            current.close();
        }
    }

    private static void noServer(final AgentOptions options, final String reason)
    {
        if (options.noServer() == AgentOptions.NoServer.EXIT)
        {
            System.err.println("bitfusion agent: " + reason + "; exiting before main (on_no_server=continue goes on " +
                "without GPUs)");
            System.exit(EXIT_CANNOT_GET_SLICE);
        }
        withoutGpus = true;
        System.err.println("bitfusion agent: " + reason + "; going on without GPUs (on_no_server=continue)");
    }

    /** Device printf goes to file descriptor 1, as the driver's does, wherever System.out was pointed. */
    private static PrintStream deviceOutput()
    {
        return new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
    }

    /** A libcuda already in the process: the NVIDIA driver, or whatever another library loaded first. */
    private static String mappedDriver()
    {
        try
        {
            final List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"), StandardCharsets.UTF_8);
            for (final String line : maps)
            {
                final int path = line.indexOf('/');
                if (path >= 0 && line.substring(path).matches(".*/libcuda\\.so[.0-9]*$"))
                {
                    return line.substring(path);
                }
            }
        }
        catch (final IOException ignore)
        {
            // No /proc: nothing to tell, and glibc binds the name to whichever loads first as ever.
        }
        return null;
    }
}
