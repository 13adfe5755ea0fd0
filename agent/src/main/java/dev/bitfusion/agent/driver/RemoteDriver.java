package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.wire.ServerSession;

import java.io.PrintStream;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * The CUDA driver API executed on remote GPU slices: the client runtime, owner of every driver semantic
 * this process sees. Calls take the driver API's own arguments, with pointers as native addresses, so our
 * libcuda.so.1 forwards to it one to one (see {@code DriverBridge}) and a Java caller holding native memory
 * gets exactly what a C program gets. The calls are grouped by concern: {@link #devices()},
 * {@link #contexts()}, {@link #memory()}, {@link #hostMemory()}, {@link #pointers()}, {@link #streams()},
 * {@link #events()}, {@link #modules()}, {@link #functions()}, {@link #launches()} and
 * {@link #tensorMaps()}; and what NVML says of the same GPUs, {@link #nvml()}.
 * <p>
 * Calls whose effect the program cannot observe at once (launches, memsets, host-to-device copies, frees,
 * event records, stream and event creation) are sent without waiting; a failure on the server is returned
 * by the next synchronizing call, and faults that corrupt a context (illegal address, trap) stick, as on
 * real GPUs. Streams, events, modules, functions and contexts get handles chosen here, with the device in
 * the top bits, so no call needs a round trip to create one.
 * <p>
 * Thread safety: thread safe; each thread has its own context stack, as CUDA specifies.
 */
public final class RemoteDriver implements AutoCloseable
{
    /** The CUDA version this driver implements, as cuDriverGetVersion reports it. */
    public static final int DRIVER_VERSION = 13000;

    private final Sessions sessions;
    private final Diagnostics diagnostics;
    private final DeviceCalls devices;
    private final ContextCalls contexts;
    private final MemoryCalls memory;
    private final HostMemoryCalls hostMemory;
    private final PointerCalls pointers;
    private final StreamCalls streams;
    private final EventCalls events;
    private final ModuleCalls modules;
    private final FunctionCalls functions;
    private final LaunchCalls launches;
    private final TensorMapCalls tensorMaps;
    private final NvmlCalls nvml;
    private volatile boolean closed;

    /**
     * @param settings     which servers, how many GPUs, what slice.
     * @param deviceOutput where device printf output goes.
     * @param messages     where the driver says why something failed beyond its CUresult (refusals, module
     *                     loads), as a C program's driver would on stderr.
     */
    public RemoteDriver(final ClientSettings settings, final PrintStream deviceOutput, final PrintStream messages)
    {
        settings.conclude();
        sessions = new Sessions(settings, deviceOutput);
        diagnostics = new Diagnostics(messages);
        final Handles handles = new Handles();
        final DeviceAllocations allocations = new DeviceAllocations();
        final ContextState contextState = new ContextState(sessions);
        final StreamTable streamTable = new StreamTable(sessions, contextState);
        final HostRanges hostRanges = new HostRanges();
        final MappedMemory mapped = new MappedMemory(sessions, contextState, allocations, diagnostics);
        final KernelTable kernels = new KernelTable(sessions);
        devices = new DeviceCalls(sessions);
        modules = new ModuleCalls(sessions, handles, contextState, kernels, allocations, diagnostics);
        contexts = new ContextCalls(sessions, handles, contextState, mapped, modules, allocations, diagnostics);
        memory = new MemoryCalls(sessions, contextState, streamTable, mapped, allocations, diagnostics);
        hostMemory = new HostMemoryCalls(hostRanges, mapped);
        pointers = new PointerCalls(contextState, hostRanges, allocations, diagnostics);
        streams = new StreamCalls(sessions, handles, contextState, streamTable, mapped, diagnostics);
        events = new EventCalls(sessions, handles, contextState, mapped);
        functions = new FunctionCalls(sessions, contextState, kernels, devices, diagnostics);
        launches = new LaunchCalls(sessions, streamTable, modules, kernels, mapped, diagnostics);
        tensorMaps = new TensorMapCalls(sessions, contextState, diagnostics);
        nvml = new NvmlCalls(sessions, devices, this::cuInit);
    }

    /**
     * @param settings     which servers, how many GPUs, what slice.
     * @param deviceOutput where device printf output goes; messages go to stderr.
     */
    public RemoteDriver(final ClientSettings settings, final PrintStream deviceOutput)
    {
        this(settings, deviceOutput, System.err);
    }

    /**
     * cuInit: opens one session per requested GPU; the slices are reserved from here on.
     */
    public int cuInit(final int flags)
    {
        if (flags != 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final String refused = sessions.openAll();
        if (refused != null)
        {
            diagnostics.report("cuInit failed: " + refused);
            return CUDA_ERROR_NO_DEVICE;
        }
        return CUDA_SUCCESS;
    }

    /**
     * @param callbacks how the program's host functions are called (the bridge's native calls).
     */
    public void hostCallbacks(final HostCallbacks callbacks)
    {
        streams.hostCallbacks(callbacks);
    }

    /**
     * @return why the last call that failed for a reason beyond its CUresult failed (refusals, load errors).
     */
    public String lastError()
    {
        return diagnostics.lastError();
    }

    /**
     * @param device a device ordinal.
     * @return the session behind it, for tools and tests (session id, transport), or null before cuInit.
     */
    public ServerSession session(final int device)
    {
        return sessions.isInitialised() && device >= 0 && device < sessions.count() ? sessions.of(device) : null;
    }

    public DeviceCalls devices()
    {
        return devices;
    }

    public ContextCalls contexts()
    {
        return contexts;
    }

    public MemoryCalls memory()
    {
        return memory;
    }

    public HostMemoryCalls hostMemory()
    {
        return hostMemory;
    }

    public PointerCalls pointers()
    {
        return pointers;
    }

    public StreamCalls streams()
    {
        return streams;
    }

    public EventCalls events()
    {
        return events;
    }

    public ModuleCalls modules()
    {
        return modules;
    }

    public FunctionCalls functions()
    {
        return functions;
    }

    public LaunchCalls launches()
    {
        return launches;
    }

    public TensorMapCalls tensorMaps()
    {
        return tensorMaps;
    }

    /**
     * @return the NVML answers of the NVML stand-in (libnvidia-ml.so.1): the same GPUs, from the same sessions.
     */
    public NvmlCalls nvml()
    {
        return nvml;
    }

    /**
     * @return true once {@link #close()} ran: every session is gone, and the server freed what they held.
     */
    public boolean isClosed()
    {
        return closed;
    }

    /**
     * Close every session: the server frees the slices and everything in them.
     */
    public void close()
    {
        closed = true;
        sessions.closeAll();
    }
}
