package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.CallSlot;
import dev.bitfusion.agent.wire.ServerSession;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * The kernels this program looked up: each function's parameter layout (learnt once from the server, so a
 * launch packs its arguments without asking again), what it was looked up as, its lookups on other GPUs,
 * and the attributes set on it, which belong to the kernel on every GPU.
 * <p>
 * Layouts are indexed by a function's sequence in an array per GPU, replaced whole on change, so a launch
 * finds its layout with two reads and no lock.
 * <p>
 * Thread safety: thread safe; replication to other GPUs and attribute settings are serialised on the table.
 */
final class KernelTable
{
    /** What a function handle was looked up as, to look it up again after a reset or on another GPU. */
    record FunctionName(long module, String name)
    {
    }

    private final Sessions sessions;
    private final AtomicReferenceArray<KernelLayout[]> layouts;
    private final Map<Long, FunctionName> names = new ConcurrentHashMap<>();
    /** A function's lookups on the other GPUs, by the function's handle; index = device, 0 where none. */
    private final Map<Long, long[]> onOtherDevices = new ConcurrentHashMap<>();
    /** Attributes set on a function (cuFuncSetAttribute), given to its lookups on other GPUs too. */
    private final Map<Long, Map<Integer, Integer>> setAttributes = new ConcurrentHashMap<>();

    KernelTable(final Sessions sessions)
    {
        this.sessions = sessions;
        layouts = new AtomicReferenceArray<>(sessions.count());
        for (int i = 0; i < sessions.count(); i++)
        {
            layouts.set(i, new KernelLayout[0]);
        }
    }

    /**
     * Look a kernel up on the server under the handle of {@code index} on {@code device}, learning its layout.
     */
    int lookUp(final int device, final long module, final int index, final String name)
    {
        final long handle = Handles.functionHandle(device, index);
        final ServerSession session = sessions.of(device);
        final CallSlot slot = session.slot();
        final int status = session.await(slot, session.proxy().moduleGetFunction(slot, module, handle, name));
        if (status == CUDA_SUCCESS)
        {
            register(device, (int)Handles.functionIndex(handle), new KernelLayout(module, slot.parameterBufferSize(),
                slot.parameterOffsets(), slot.parameterSizes(), new FunctionAttributes()));
            names.put(handle, new FunctionName(module, name));
        }
        return status;
    }

    /**
     * @return the layout of a function this program holds, or null for an unknown handle.
     */
    KernelLayout layoutOf(final long function)
    {
        final int device = Handles.deviceOf(function);
        if (!sessions.isInitialised() || device >= layouts.length())
        {
            return null;
        }
        final long index = Handles.functionIndex(function);
        final KernelLayout[] known = layouts.get(device);
        return index >= 0 && index < known.length ? known[(int)index] : null;
    }

    FunctionName nameOf(final long function)
    {
        return names.get(function);
    }

    /**
     * @return the function's lookups on each GPU, made on first need; index = device, 0 where none.
     */
    long[] lookupsOnOtherDevices(final long function)
    {
        return onOtherDevices.computeIfAbsent(function, key -> new long[sessions.count()]);
    }

    /**
     * @return a lookup on another GPU made before, or 0.
     */
    long knownLookup(final long function, final int device)
    {
        final long[] known = onOtherDevices.get(function);
        return known == null ? 0 : known[device];
    }

    /**
     * Give a fresh lookup on another GPU every attribute set on the function so far.
     */
    int copyAttributes(final long from, final long to)
    {
        for (final Map.Entry<Integer, Integer> attribute : setAttributes.getOrDefault(from, Map.of()).entrySet())
        {
            final int status = setAttribute(to, attribute.getKey(), attribute.getValue());
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
        }
        return CUDA_SUCCESS;
    }

    /**
     * Set an attribute on every GPU the function was looked up on, and remember it for later lookups.
     */
    synchronized int setEverywhere(final long function, final int attribute, final int value)
    {
        int status = setAttribute(function, attribute, value);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        setAttributes.computeIfAbsent(function, key -> new ConcurrentHashMap<>()).put(attribute, value);
        final long[] copies = onOtherDevices.get(function);
        for (int device = 0; copies != null && device < copies.length && status == CUDA_SUCCESS; device++)
        {
            if (copies[device] != 0)
            {
                status = setAttribute(copies[device], attribute, value);
            }
        }
        return status;
    }

    /**
     * The server answers whether it can honour the setting; what is known of the attributes is kept straight.
     */
    int setAttribute(final long function, final int attribute, final int value)
    {
        final ServerSession session = sessions.ofHandle(function);
        final KernelLayout layout = layoutOf(function);
        if (session == null || layout == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final FunctionAttributes known = layout.attributes();
        synchronized (known)
        {
            known.settingStarts();
            final CallSlot slot = session.slot();
            final int status = session.await(slot, session.proxy().functionSetAttribute(slot, function, attribute, value));
            known.settled(attribute, value, status == CUDA_SUCCESS);
            return status;
        }
    }

    /**
     * Forget every function of an unloaded module, on every GPU: their handles are invalid from now on.
     */
    void forgetModule(final long module)
    {
        names.entrySet().removeIf(function ->
        {
            if (function.getValue().module() != module)
            {
                return false;
            }
            forgetLayout(function.getKey());
            final long[] lookups = onOtherDevices.remove(function.getKey());
            for (int device = 0; lookups != null && device < lookups.length; device++)
            {
                forgetLayout(lookups[device]);
            }
            setAttributes.remove(function.getKey());
            return true;
        });
    }

    /**
     * A reset session knows no functions: every layout of the device goes (they are learnt again on reload).
     */
    void clearLayouts(final int device)
    {
        layouts.set(device, new KernelLayout[0]);
    }

    /**
     * @return every function looked up on the device, with what it was looked up as.
     */
    Map<Long, FunctionName> namesOn(final int device)
    {
        final Map<Long, FunctionName> on = new java.util.TreeMap<>();
        names.forEach((function, name) ->
        {
            if (Handles.deviceOf(function) == device)
            {
                on.put(function, name);
            }
        });
        return on;
    }

    private void forgetLayout(final long function)
    {
        final int device = Handles.deviceOf(function);
        final long index = Handles.functionIndex(function);
        if (function != 0 && device < layouts.length() && index >= 0 && index < layouts.get(device).length)
        {
            register(device, (int)index, null);
        }
    }

    private void register(final int device, final int index, final KernelLayout layout)
    {
        while (true)
        {
            final KernelLayout[] current = layouts.get(device);
            final KernelLayout[] updated = Arrays.copyOf(current, Math.max(current.length, index + 1));
            updated[index] = layout;
            if (layouts.compareAndSet(device, current, updated))
            {
                return;
            }
        }
    }
}
