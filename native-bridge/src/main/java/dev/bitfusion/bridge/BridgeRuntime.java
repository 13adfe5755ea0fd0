package dev.bitfusion.bridge;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.agent.javaagent.AgentRuntime;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * The life of the client runtime inside a process that loaded our libcuda.so.1: the runtime the Java agent
 * prepared, else one built from the environment {@code bitfusion run} prepares; closed when the process exits
 * (the server then frees the slices at once); and what the trampolines of {@link DriverBridge} answer when it
 * is not running or a call throws.
 * <p>
 * Who closes it: the Java agent, after the application's shutdown hooks; the bridge at exit, in a native
 * program whose JVM it created; a shutdown hook of its own in an application's JVM without the agent.
 * <p>
 * Thread safety: thread safe.
 */
public final class BridgeRuntime
{
    /** Class path of the JVM the bridge starts inside the application. */
    public static final String CLASSPATH_ENV_NAME = "BITFUSION_CLASSPATH";

    private static final int NVML_ERROR_UNINITIALIZED = 1;
    private static final int NVML_ERROR_UNKNOWN = 999;

    private static volatile RemoteDriver driver;

    private BridgeRuntime()
    {
    }

    /**
     * Called once by the bridge (through {@link DriverBridge#bridgeStart(int)}) on the first forwarded call.
     *
     * @param embedded true when the bridge created this JVM inside a native program (it closes the runtime at
     *                 exit); false inside an application's JVM.
     * @return CUDA_SUCCESS; CUDA_ERROR_NO_DEVICE when the agent goes on without GPUs; or
     * CUDA_ERROR_NOT_INITIALIZED after one line on stderr saying why.
     */
    static int bootstrap(final boolean embedded)
    {
        try
        {
            RemoteDriver started = AgentRuntime.driver();
            if (started == null)
            {
                // Device printf goes to file descriptor 1, as the driver's does, wherever System.out was pointed.
                started = new RemoteDriver(ClientSettings.fromEnvironment(System.getenv()),
                    new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8), System.err);
                if (!embedded)
                {
                    // Without the agent nothing can run after the application's own hooks: close beside them.
                    Runtime.getRuntime().addShutdownHook(new Thread(BridgeRuntime::shutdown, "bitfusion-bridge-exit"));
                }
            }
            started.hostCallbacks(new NativeHostCallbacks());
            driver = started;
            return CUDA_SUCCESS;
        }
        catch (final IllegalStateException ex)
        {
            return AgentRuntime.isWithoutGpus() ? CUDA_ERROR_NO_DEVICE : notStarted(ex);
        }
        catch (final Throwable ex)
        {
            return notStarted(ex);
        }
    }

    private static int notStarted(final Throwable ex)
    {
        System.err.println("bitfusion: cannot start the CUDA bridge: " + ex.getMessage());
        return CUDA_ERROR_NOT_INITIALIZED;
    }

    /**
     * Closes the sessions so the server frees the slices at once: called by the bridge at the exit of a
     * native program (through {@link DriverBridge#bridgeExit()}), or by this class's own shutdown hook.
     */
    static void shutdown()
    {
        final RemoteDriver current = driver;
        if (current != null)
        {
            try
            {
                current.close();
            }
            catch (final Throwable ignore)
            {
                // The process is exiting; the server's liveness timeout frees what a failed close leaves.
            }
        }
    }

    /**
     * @return the runtime, or null once it is closed (the process is exiting).
     */
    static RemoteDriver driver()
    {
        final RemoteDriver current = driver;
        return current == null || current.isClosed() ? null : current;
    }

    /**
     * The answer to a call after shutdown: static destructors of the program (a caching allocator freeing its
     * blocks) run after the session closed, which freed everything; letting go succeeds, anything else is
     * CUDA_ERROR_DEINITIALIZED, as from a driver shutting down.
     *
     * @param release whether the call only lets something go.
     */
    static int notRunning(final boolean release)
    {
        return release ? CUDA_SUCCESS : CUDA_ERROR_DEINITIALIZED;
    }

    /**
     * The answer to an NVML call once the runtime is closed: NVML_ERROR_UNINITIALIZED, as after nvmlShutdown.
     */
    static int nvmlNotRunning()
    {
        return NVML_ERROR_UNINITIALIZED;
    }

    /**
     * An NVML trampoline caught a throwable: NVML_ERROR_UNKNOWN, with one line on stderr.
     */
    static int nvmlFailed(final String call, final Throwable ex)
    {
        if (driver() != null)
        {
            System.err.println("bitfusion: " + call + " failed inside the bridge: " + ex);
        }
        return NVML_ERROR_UNKNOWN;
    }

    /**
     * A trampoline caught a throwable: nothing crosses into C but a CUresult.
     */
    static int failed(final String call, final Throwable ex)
    {
        if (driver() == null)
        {
            return CUDA_ERROR_DEINITIALIZED;
        }
        System.err.println("bitfusion: " + call + " failed inside the bridge: " + ex);
        return CUDA_ERROR_UNKNOWN;
    }
}
