package dev.bitfusion.bridge;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.RemoteDriver;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * The life of the client runtime inside a program that loaded our libcuda.so.1: built from the environment
 * {@code bitfusion run} prepares when the bridge starts the JVM, closed when the program exits (the server
 * then frees the slices at once), and what the trampolines of {@link DriverBridge} answer when it is not
 * running or a call throws.
 * <p>
 * Thread safety: thread safe.
 */
public final class BridgeRuntime
{
    /** Class path of the JVM the bridge starts inside the application. */
    public static final String CLASSPATH_ENV_NAME = "BITFUSION_CLASSPATH";

    private static volatile RemoteDriver driver;
    private static volatile boolean shutDown;

    private BridgeRuntime()
    {
    }

    /**
     * Called once by the bridge (through {@link DriverBridge#bridgeStart()}), right after the JVM starts.
     *
     * @return CUDA_SUCCESS, or CUDA_ERROR_NOT_INITIALIZED after one line on stderr saying why.
     */
    static int bootstrap()
    {
        try
        {
            // Device printf goes to file descriptor 1, as the driver's does, wherever System.out was pointed.
            final RemoteDriver started = new RemoteDriver(ClientSettings.fromEnvironment(System.getenv()),
                new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8), System.err);
            started.hostCallbacks(new NativeHostCallbacks());
            driver = started;
            return CUDA_SUCCESS;
        }
        catch (final Throwable ex)
        {
            System.err.println("bitfusion: cannot start the CUDA bridge: " + ex.getMessage());
            return CUDA_ERROR_NOT_INITIALIZED;
        }
    }

    /**
     * Called by the bridge at process exit (through {@link DriverBridge#bridgeExit()}): closes the sessions so the
     * server frees the slices at once.
     */
    static void shutdown()
    {
        shutDown = true;
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
     * @return the runtime, or null once the program is exiting.
     */
    static RemoteDriver driver()
    {
        return shutDown ? null : driver;
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
     * A trampoline caught a throwable: nothing crosses into C but a CUresult.
     */
    static int failed(final String call, final Throwable ex)
    {
        if (shutDown)
        {
            return CUDA_ERROR_DEINITIALIZED;
        }
        System.err.println("bitfusion: " + call + " failed inside the bridge: " + ex);
        return CUDA_ERROR_UNKNOWN;
    }
}
