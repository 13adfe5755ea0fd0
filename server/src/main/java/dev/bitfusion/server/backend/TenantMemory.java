package dev.bitfusion.server.backend;

import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.LongArrayList;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_INVALID_VALUE;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_OUT_OF_MEMORY;
import static dev.bitfusion.cuda.CuResult.CUDA_SUCCESS;

/**
 * One tenant's device memory as the server polices it, whatever the backend: the slice it may hold, and the
 * device ranges it may name. One server process shares one device address space among its tenants, so every
 * pointer a copy, memset, free or tensor map names must lie inside one of this tenant's own allocations, or a
 * global of one of its modules, before a backend touches it; an allocation past the slice fails with
 * CUDA_ERROR_OUT_OF_MEMORY.
 * <p>
 * A backend asks {@link #admit} before it allocates, which takes the bytes from the reservation's
 * {@link SliceBudget} (shared by every session of one job), then reports what it got with {@link #allocated}, or
 * gives the bytes back with {@link #notAllocated} when the allocation failed; it {@link #free}s by start address. Module loads may hold memory in the slice too (the emulated GPU keeps a
 * module's globals there; a real driver keeps them outside any slice), reported with {@link #moduleLoaded}.
 * <p>
 * Thread safety: not thread safe; owned by one session's executor, except {@link #allocatedBytes()}, which
 * listings may read from any thread.
 */
public final class TenantMemory
{
    /** What a loaded module adds: bytes it holds in the slice and the globals the tenant may name. */
    private static final class ModuleMemory
    {
        final LongArrayList globals = new LongArrayList();
        long heldBytes;
    }

    private final SliceBudget budget;
    private final DeviceRanges allocations = new DeviceRanges();
    private final DeviceRanges globals = new DeviceRanges();
    private final Long2ObjectHashMap<ModuleMemory> modules = new Long2ObjectHashMap<>();
    private volatile long allocatedBytes;

    /**
     * @param budget the slice this tenant shares with the other sessions of its reservation.
     */
    public TenantMemory(final SliceBudget budget)
    {
        this.budget = budget;
    }

    /**
     * @return the bytes this tenant's reservation may hold.
     */
    public long sliceBytes()
    {
        return budget.sliceBytes();
    }

    /**
     * @return the bytes this session holds now: its allocations and what its modules hold in the slice (the
     * reservation's other sessions may hold more of it).
     */
    public long allocatedBytes()
    {
        return allocatedBytes;
    }

    /**
     * Decide whether an allocation may be made, and take its bytes from the slice when it may: the backend then
     * reports {@link #allocated} or {@link #notAllocated}.
     *
     * @param bytes  its size.
     * @param result receives the reason for a refusal past the slice.
     * @return CUDA_SUCCESS, CUDA_ERROR_INVALID_VALUE for no bytes, or CUDA_ERROR_OUT_OF_MEMORY past the slice.
     */
    public int admit(final long bytes, final CallResult result)
    {
        if (bytes <= 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (!budget.tryTake(bytes))
        {
            result.message = "allocation of " + bytes + " bytes exceeds the slice: " + budget.heldBytes() + " of " +
                budget.sliceBytes() + " bytes in use" + (budget.heldBytes() > allocatedBytes ?
                " (" + allocatedBytes + " by this process, the rest by other processes of the job)" : "");
            return CUDA_ERROR_OUT_OF_MEMORY;
        }
        return CUDA_SUCCESS;
    }

    /**
     * @param bytes what an admitted allocation that failed had taken from the slice.
     */
    public void notAllocated(final long bytes)
    {
        budget.give(bytes);
    }

    /**
     * @param address where an admitted allocation was made.
     * @param bytes   its size.
     */
    public void allocated(final long address, final long bytes)
    {
        allocations.add(address, bytes);
        allocatedBytes += bytes;
    }

    /**
     * @param address the start of one of this tenant's allocations.
     * @return its size, now no longer held, or -1 when no allocation of this tenant starts there: the backend
     * must then free nothing (CUDA_ERROR_INVALID_VALUE).
     */
    public long free(final long address)
    {
        final long bytes = allocations.remove(address);
        if (bytes >= 0)
        {
            allocatedBytes -= bytes;
            budget.give(bytes);
        }
        return bytes;
    }

    /**
     * @param moduleHandle the client's handle of a module just loaded.
     * @param heldBytes    what the load took from the slice; 0 when the backend keeps modules outside it.
     */
    public void moduleLoaded(final long moduleHandle, final long heldBytes)
    {
        final ModuleMemory module = modules.computeIfAbsent(moduleHandle, (handle) -> new ModuleMemory());
        module.heldBytes += heldBytes;
        allocatedBytes += heldBytes;
        budget.take(heldBytes);
    }

    /**
     * A global the client looked up (cuModuleGetGlobal) and may now copy to and from.
     *
     * @param moduleHandle the module it belongs to, loaded by {@link #moduleLoaded}.
     * @param address      its device address.
     * @param bytes        its size; an empty global adds nothing.
     */
    public void addGlobal(final long moduleHandle, final long address, final long bytes)
    {
        final ModuleMemory module = modules.get(moduleHandle);
        if (module != null && bytes > 0)
        {
            globals.add(address, bytes);
            module.globals.addLong(address);
        }
    }

    /**
     * Forget a module's globals and return what it held to the slice.
     *
     * @param moduleHandle the module unloaded.
     */
    public void moduleUnloaded(final long moduleHandle)
    {
        final ModuleMemory module = modules.remove(moduleHandle);
        if (module != null)
        {
            for (int i = 0; i < module.globals.size(); i++)
            {
                globals.remove(module.globals.getLong(i));
            }
            allocatedBytes -= module.heldBytes;
            budget.give(module.heldBytes);
        }
    }

    /**
     * @return true when {@code [address, address + bytes)} lies inside one allocation or one global of this
     * tenant.
     */
    public boolean contains(final long address, final long bytes)
    {
        return allocations.contains(address, bytes) || globals.contains(address, bytes);
    }

    /**
     * The bytes a 2D range covers, from its first element to its last, for checking it with
     * {@link #contains}: computed without overflow, as a client's width, height and pitch could otherwise wrap to
     * a small span that passes the check while the rows written run far past it.
     *
     * @param width       elements per row.
     * @param elementSize bytes per element.
     * @param height      rows; 1 for a linear range, whose pitch is not used.
     * @param pitch       bytes between rows, at least a row's bytes.
     * @return the span, or -1 when a size is out of range or the span does not fit in a long.
     */
    public static long span(final long width, final int elementSize, final long height, final long pitch)
    {
        if (width < 0 || elementSize < 1 || height < 1)
        {
            return -1;
        }
        try
        {
            final long rowBytes = Math.multiplyExact(width, elementSize);
            if (height > 1 && pitch < rowBytes)
            {
                return -1;
            }
            return Math.addExact(Math.multiplyExact(height - 1, pitch), rowBytes);
        }
        catch (final ArithmeticException ex)
        {
            return -1;
        }
    }

    /**
     * @return how many allocations the tenant holds, for a backend freeing them all at the end.
     */
    public int allocationCount()
    {
        return allocations.size();
    }

    /**
     * @param index 0 to {@link #allocationCount()} - 1.
     * @return the start of that allocation.
     */
    public long allocationAt(final int index)
    {
        return allocations.startAt(index);
    }

    /**
     * Forget everything, once the backend has freed it all, and give it back to the slice.
     */
    public void clear()
    {
        budget.give(allocatedBytes);
        allocations.clear();
        globals.clear();
        modules.clear();
        allocatedBytes = 0;
    }
}
