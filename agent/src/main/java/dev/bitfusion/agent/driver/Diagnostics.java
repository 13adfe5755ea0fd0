package dev.bitfusion.agent.driver;

import dev.bitfusion.cuda.CuResult;

import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Why calls failed beyond their CUresult: kept for {@link RemoteDriver#lastError()} and told on the
 * driver's message stream (stderr for a program), as a program expects its driver to explain a refused
 * cuInit or a module that will not load. Library load failures are told once, then counted: cuDNN probes
 * engine after engine until one loads; BITFUSION_TRACE tells each.
 * <p>
 * Thread safety: thread safe.
 */
final class Diagnostics
{
    private static final boolean TRACE = isTraceOn(System.getenv("BITFUSION_TRACE"));

    private final PrintStream messages;
    private final AtomicInteger libraryLoadFailures = new AtomicInteger();
    private final Set<String> toldUnsupported = ConcurrentHashMap.newKeySet();
    private volatile String lastError;

    Diagnostics(final PrintStream messages)
    {
        this.messages = messages;
    }

    String lastError()
    {
        return lastError;
    }

    /**
     * Remember why a call failed, without telling anyone yet.
     */
    void failed(final String why)
    {
        lastError = why;
    }

    /**
     * Remember and tell why a call failed.
     */
    void report(final String why)
    {
        lastError = why;
        messages.println("bitfusion: " + why);
    }

    /**
     * A lazily loaded library could not load on the server: told in full the first time only.
     */
    void reportLibraryLoadFailure(final String why)
    {
        lastError = why;
        if (libraryLoadFailures.incrementAndGet() == 1 || TRACE)
        {
            messages.println("bitfusion: library load failed: " + why + (TRACE ? "" :
                " (later failures are not shown; BITFUSION_TRACE=1 shows each)"));
        }
    }

    /**
     * A call or a case of one that is not supported: named on the message stream, once.
     *
     * @return CUDA_ERROR_NOT_SUPPORTED.
     */
    int unsupported(final String what)
    {
        if (toldUnsupported.add(what))
        {
            messages.println("bitfusion: " + what + " is not supported yet (CUDA_ERROR_NOT_SUPPORTED)");
        }
        return CuResult.CUDA_ERROR_NOT_SUPPORTED;
    }

    private static boolean isTraceOn(final String value)
    {
        return value != null && !value.isEmpty() && !"0".equals(value);
    }
}
