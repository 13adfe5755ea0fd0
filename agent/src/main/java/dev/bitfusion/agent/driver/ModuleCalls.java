package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.CallSlot;
import dev.bitfusion.agent.wire.DeviceInfo;
import dev.bitfusion.agent.wire.ServerSession;
import org.agrona.UnsafeApi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Modules and libraries. A module's image travels to the server when it is loaded, cut down to what the
 * server's GPU can run; a library's travels only when a kernel, a global or its module is first asked for,
 * as CUDA's lazy loading does (runtimes register every fatbin of a program and its libraries at start-up,
 * hundreds of MiB for PyTorch). Libraries are modules here and kernels are functions: CUDA itself lets a
 * CUkernel be passed where a CUfunction is expected.
 * <p>
 * CUDA's kernels belong to no context: a runtime looks a kernel up once and launches it on whichever GPU is
 * current. A function here is bound to the GPU it was looked up on, so a launch elsewhere loads the module
 * on that GPU too (once) and looks the function up there ({@link #functionOn}).
 * <p>
 * Thread safety: thread safe.
 */
public final class ModuleCalls
{
    private static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    private static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    private static final int CU_LIBRARY_BINARY_IS_PRESERVED = 1;
    private static final int CU_MODULE_EAGER_LOADING = 1;

    private final Sessions sessions;
    private final Handles handles;
    private final ContextState contexts;
    private final KernelTable kernels;
    private final DeviceAllocations allocations;
    private final Diagnostics diagnostics;
    private final Map<Long, ModuleImage> loadedImages = new ConcurrentHashMap<>();
    private final Map<Long, ModuleImage> unshippedLibraries = new ConcurrentHashMap<>();
    private final Map<Long, Integer> unloadableLibraries = new ConcurrentHashMap<>();
    /** A module's copies on the other GPUs, by the module's handle; index = device, 0 where none. */
    private final Map<Long, long[]> onOtherDevices = new ConcurrentHashMap<>();

    ModuleCalls(
        final Sessions sessions, final Handles handles, final ContextState contexts, final KernelTable kernels,
        final DeviceAllocations allocations, final Diagnostics diagnostics)
    {
        this.sessions = sessions;
        this.handles = handles;
        this.contexts = contexts;
        this.kernels = kernels;
        this.allocations = allocations;
        this.diagnostics = diagnostics;
    }

    /**
     * A module from a file, read here, where the file is, then loaded as from memory.
     */
    public int cuModuleLoad(final long module, final long fname)
    {
        if (module == 0 || fname == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final byte[] image = readImage(fname);
        return image == null ? CUDA_ERROR_FILE_NOT_FOUND :
            image.length == 0 ? CUDA_ERROR_INVALID_IMAGE : loadData(module, () -> image);
    }

    /**
     * @param image PTX text, a fatbin (or its wrapper) or a cubin; loaded on the server, which says why when
     *              it cannot.
     */
    public int cuModuleLoadData(final long module, final long image)
    {
        if (module == 0 || image == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final ImageExtent extent = ImageExtent.of(image);
        if (extent.bytes() <= 0 || extent.bytes() > Integer.MAX_VALUE)
        {
            return CUDA_ERROR_INVALID_IMAGE;
        }
        try (NativeModuleImage copy = NativeModuleImage.copyOf(extent.address(), (int)extent.bytes()))
        {
            return loadData(module, copy);
        }
    }

    /**
     * JIT options tune a compiler the server runs, not the result.
     */
    public int cuModuleLoadDataEx(
        final long module, final long image, final int numOptions, final long options, final long optionValues)
    {
        return cuModuleLoadData(module, image);
    }

    public int cuModuleGetLoadingMode(final long mode)
    {
        if (mode == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        NativeMemory.putInt(mode, CU_MODULE_EAGER_LOADING);
        return CUDA_SUCCESS;
    }

    /**
     * Loads a library lazily: the image travels to the server only when a kernel, a global or the module of
     * the library is first asked for, and an image that cannot run there fails then. A preserved image
     * (CU_LIBRARY_BINARY_IS_PRESERVED) is read where the program keeps it when the library ships; any other
     * is copied now, as the driver would.
     */
    public int cuLibraryLoadData(
        final long library, final long code, final long jitOptions, final long jitOptionsValues, final int numJitOptions,
        final long libraryOptions, final long libraryOptionValues, final int numLibraryOptions)
    {
        if (library == 0 || code == 0 || (numLibraryOptions > 0 && libraryOptions == 0))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (!sessions.isInitialised())
        {
            return CUDA_ERROR_NOT_INITIALIZED;
        }
        boolean preserved = false;
        for (int i = 0; i < numLibraryOptions; i++)
        {
            if (NativeMemory.getInt(libraryOptions + (long)i * Integer.BYTES) == CU_LIBRARY_BINARY_IS_PRESERVED &&
                (libraryOptionValues == 0 || NativeMemory.getLong(libraryOptionValues + (long)i * Long.BYTES) != 0))
            {
                preserved = true;
            }
        }
        final ImageExtent extent = ImageExtent.of(code);
        if (extent.bytes() <= 0 || extent.bytes() > Integer.MAX_VALUE)
        {
            return CUDA_ERROR_INVALID_IMAGE;
        }
        try (ModuleImage image = preserved ? () -> copyOf(extent.address(), (int)extent.bytes()) :
            NativeModuleImage.copyOf(extent.address(), (int)extent.bytes()))
        {
            return loadLibrary(library, image);
        }
    }

    /**
     * Not preserved (a file's image cannot be, as documented): the library takes its own copy now.
     */
    public int cuLibraryLoadFromFile(
        final long library, final long fileName, final long jitOptions, final long jitOptionsValues,
        final int numJitOptions, final long libraryOptions, final long libraryOptionValues, final int numLibraryOptions)
    {
        for (int i = 0; i < numLibraryOptions; i++)
        {
            if (libraryOptions == 0 ||
                NativeMemory.getInt(libraryOptions + (long)i * Integer.BYTES) == CU_LIBRARY_BINARY_IS_PRESERVED)
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
        }
        if (library == 0 || fileName == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (!sessions.isInitialised())
        {
            return CUDA_ERROR_NOT_INITIALIZED;
        }
        final byte[] image = readImage(fileName);
        return image == null ? CUDA_ERROR_FILE_NOT_FOUND :
            image.length == 0 ? CUDA_ERROR_INVALID_IMAGE : loadLibrary(library, () -> image);
    }

    /**
     * A library is its own module here; asking for it ships the library.
     */
    public int cuLibraryGetModule(final long pMod, final long library)
    {
        if (pMod == 0 || library == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int shipped = ship(library);
        if (shipped == CUDA_SUCCESS)
        {
            NativeMemory.putLong(pMod, library);
        }
        return shipped;
    }

    /**
     * A kernel is its own function here.
     */
    public int cuKernelGetFunction(final long pFunc, final long kernel)
    {
        if (pFunc == 0 || kernel == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        NativeMemory.putLong(pFunc, kernel);
        return CUDA_SUCCESS;
    }

    public int cuModuleUnload(final long hmod)
    {
        final ServerSession session = sessions.ofHandle(hmod);
        if (session == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final ModuleImage unshipped = unshippedLibraries.remove(hmod);
        if (unshipped != null)
        {
            unshipped.release();
            return CUDA_SUCCESS;
        }
        if (unloadableLibraries.remove(hmod) != null)
        {
            return CUDA_SUCCESS;
        }
        final long[] copies = onOtherDevices.remove(hmod);
        for (int device = 0; copies != null && device < copies.length; device++)
        {
            if (copies[device] != 0)
            {
                cuModuleUnload(copies[device]);
            }
        }
        final ModuleImage image = loadedImages.remove(hmod);
        if (image != null)
        {
            image.release();
        }
        kernels.forgetModule(hmod);
        return session.proxy().moduleUnload(hmod);
    }

    /**
     * Also cuLibraryGetKernel: the lookup ships a lazily loaded library first.
     */
    public int cuModuleGetFunction(final long hfunc, final long hmod, final long name)
    {
        if (hfunc == 0 || name == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (sessions.ofHandle(hmod) == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final int shipped = ship(hmod);
        if (shipped != CUDA_SUCCESS)
        {
            return shipped;
        }
        final int device = Handles.deviceOf(hmod);
        final int index = handles.newFunctionIndex();
        final int status = kernels.lookUp(device, hmod, index, NativeMemory.cString(name));
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putLong(hfunc, Handles.functionHandle(device, index));
        }
        return status;
    }

    /**
     * Also cuLibraryGetGlobal. A runtime looks a __device__ variable up on whichever GPU is current, and each
     * GPU has its own: the global of the module's copy on the current GPU.
     */
    public int cuModuleGetGlobal(final long dptr, final long bytes, final long hmod, final long name)
    {
        if (name == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (sessions.ofHandle(hmod) == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final int shipped = ship(hmod);
        if (shipped != CUDA_SUCCESS)
        {
            return shipped;
        }
        final int current = contexts.currentDevice();
        final long module;
        if (current < 0 || current == Handles.deviceOf(hmod))
        {
            module = hmod;
        }
        else
        {
            synchronized (kernels)
            {
                module = moduleOn(hmod, current);
            }
            if (module == 0)
            {
                return CUDA_ERROR_INVALID_HANDLE;
            }
        }
        final ServerSession session = sessions.ofHandle(module);
        final CallSlot slot = session.slot();
        final int status = session.await(slot, session.proxy().moduleGetGlobal(slot, module, NativeMemory.cString(name)));
        if (status == CUDA_SUCCESS)
        {
            allocations.add(slot.value1(), slot.value2(), Handles.deviceOf(module));
            NativeMemory.putLongIfWanted(dptr, slot.value1());
            NativeMemory.putLongIfWanted(bytes, slot.value2());
        }
        return status;
    }

    /**
     * @return whether the handle names a library loaded lazily that has not travelled to the server yet.
     */
    public boolean isUnshippedLibrary(final long handle)
    {
        return unshippedLibraries.containsKey(handle);
    }

    /**
     * The function to launch on a GPU, looked up there (its module loaded there first) on first need.
     *
     * @return the function's handle on the device, or 0 when it cannot be had there (lastError says why).
     */
    long functionOn(final long function, final int device)
    {
        if (Handles.deviceOf(function) == device || device < 0 || device >= sessions.count())
        {
            return function;
        }
        final long known = kernels.knownLookup(function, device);
        if (known != 0)
        {
            return known;
        }
        synchronized (kernels)
        {
            final long[] byDevice = kernels.lookupsOnOtherDevices(function);
            if (byDevice[device] == 0)
            {
                final KernelTable.FunctionName name = kernels.nameOf(function);
                final long module = name == null ? 0 : moduleOn(name.module(), device);
                if (module == 0)
                {
                    return 0;
                }
                final int index = handles.newFunctionIndex();
                final long handle = Handles.functionHandle(device, index);
                if (kernels.lookUp(device, module, index, name.name()) != CUDA_SUCCESS ||
                    kernels.copyAttributes(function, handle) != CUDA_SUCCESS)
                {
                    return 0;
                }
                byDevice[device] = handle;
            }
            return byDevice[device];
        }
    }

    /**
     * CUDA 12+ runtimes load kernels as libraries, which outlive a context reset and keep their handles: after
     * a reset every module and function of the device is loaded again into the fresh session under the
     * handles the program already holds.
     */
    int reloadAll(final int device)
    {
        kernels.clearLayouts(device);
        final ServerSession session = sessions.of(device);
        for (final Map.Entry<Long, ModuleImage> module : loadedImages.entrySet())
        {
            if (Handles.deviceOf(module.getKey()) == device)
            {
                final int status = load(session, module.getKey(), module.getValue().bytes(), 0);
                if (status != CUDA_SUCCESS)
                {
                    return status;
                }
            }
        }
        for (final Map.Entry<Long, KernelTable.FunctionName> function : kernels.namesOn(device).entrySet())
        {
            final int status = kernels.lookUp(device, function.getValue().module(),
                (int)Handles.functionIndex(function.getKey()), function.getValue().name());
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
        }
        return CUDA_SUCCESS;
    }

    private int loadData(final long module, final ModuleImage image)
    {
        final int device = contexts.currentDevice();
        if (device < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final long handle = handles.newHandle(device);
        diagnostics.failed(null);
        final int status = load(sessions.of(device), handle, image.bytes(), ContextState.wireContext(contexts.current()));
        if (status == CUDA_SUCCESS)
        {
            loadedImages.put(handle, image.retain());
            NativeMemory.putLong(module, handle);
        }
        else if (diagnostics.lastError() != null)
        {
            diagnostics.report("module load failed: " + diagnostics.lastError());
        }
        return status;
    }

    /**
     * Libraries need no context; without a current one they belong to device 0, as the runtime's do.
     */
    private int loadLibrary(final long library, final ModuleImage image)
    {
        final long handle = handles.newHandle(Math.max(0, contexts.currentDevice()));
        unshippedLibraries.put(handle, image.retain());
        NativeMemory.putLong(library, handle);
        return CUDA_SUCCESS;
    }

    /**
     * Ships a library loaded with {@link #cuLibraryLoadData} before its first use; a no-op for any other
     * handle. An image that cannot load there gives every later use the same answer without resending it.
     */
    private int ship(final long handle)
    {
        final ModuleImage image = unshippedLibraries.get(handle);
        if (image == null)
        {
            return unloadableLibraries.getOrDefault(handle, CUDA_SUCCESS);
        }
        synchronized (image)
        {
            if (!unshippedLibraries.containsKey(handle))
            {
                return unloadableLibraries.getOrDefault(handle, loadedImages.containsKey(handle) ?
                    CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE);
            }
            final ServerSession session = sessions.ofHandle(handle);
            if (session == null)
            {
                return CUDA_ERROR_INVALID_HANDLE;
            }
            final byte[] bytes = image.bytes();
            diagnostics.failed(null);
            final int status = bytes == null || bytes.length == 0 ? CUDA_ERROR_INVALID_IMAGE : load(session, handle, bytes, 0);
            if (status == CUDA_SUCCESS)
            {
                loadedImages.put(handle, image.retain());
            }
            else if (status != CUDA_ERROR_DEVICE_UNAVAILABLE)
            {
                unloadableLibraries.put(handle, status);
                diagnostics.reportLibraryLoadFailure(diagnostics.lastError() != null ? diagnostics.lastError() :
                    describe(status));
            }
            else
            {
                return status;
            }
            unshippedLibraries.remove(handle);
            image.release();
            return status;
        }
    }

    /** A module's copy on a GPU, loaded from the module's image on first need. Callers hold the kernel table. */
    private long moduleOn(final long module, final int device)
    {
        final long[] byDevice = onOtherDevices.computeIfAbsent(module, key -> new long[sessions.count()]);
        if (byDevice[device] == 0)
        {
            final ModuleImage image = loadedImages.get(module);
            if (image == null)
            {
                diagnostics.failed("the module of the kernel is not loaded");
                return 0;
            }
            final long handle = handles.newHandle(device);
            if (load(sessions.of(device), handle, image.bytes(), 0) != CUDA_SUCCESS)
            {
                return 0;
            }
            loadedImages.put(handle, image.retain());
            byDevice[device] = handle;
        }
        return byDevice[device];
    }

    /**
     * Sends the image cut down to what the server's GPU can run ({@link FatbinTrimmer}); should the GPU refuse
     * the cut image, the whole one follows, so that trimming can cost time but never a module.
     */
    private int load(final ServerSession session, final long handle, final byte[] image, final long context)
    {
        final DeviceInfo device = session.device();
        final int major = device.attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        final int minor = device.attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        final byte[] trimmed = major <= 0 || minor < 0 ? image : FatbinTrimmer.forArchitecture(image, 10 * major + minor);
        final String errorBefore = diagnostics.lastError();
        final int status = send(session, handle, trimmed, context);
        if (trimmed != image && (status == CUDA_ERROR_INVALID_IMAGE || status == CUDA_ERROR_NO_BINARY_FOR_GPU ||
            status == CUDA_ERROR_INVALID_PTX))
        {
            diagnostics.failed(errorBefore);
            return send(session, handle, image, context);
        }
        return status;
    }

    private int send(final ServerSession session, final long handle, final byte[] image, final long context)
    {
        final int sent = session.proxy().moduleImage(handle, image);
        if (sent != CUDA_SUCCESS)
        {
            return sent;
        }
        final CallSlot slot = session.slot();
        final int status = session.await(slot, session.proxy().moduleLoad(slot, handle, context));
        if (status != CUDA_SUCCESS && slot.message() != null)
        {
            diagnostics.failed(slot.message());
        }
        return status;
    }

    /**
     * A module's image from the file the program named, read here, where the file is. PTX text is loaded as a
     * C string, as the driver expects text images.
     *
     * @param path the address of the file's name.
     * @return the image, or null when the file cannot be read.
     */
    private static byte[] readImage(final long path)
    {
        final byte[] bytes;
        try
        {
            bytes = Files.readAllBytes(Path.of(NativeMemory.cString(path)));
        }
        catch (final IOException | InvalidPathException ex)
        {
            return null;
        }
        return bytes.length == 0 || ImageExtent.isBinary(bytes) ? bytes : Arrays.copyOf(bytes, bytes.length + 1);
    }

    private static byte[] copyOf(final long address, final int bytes)
    {
        final byte[] copy = new byte[bytes];
        UnsafeApi.copyMemory(null, address, copy, UnsafeApi.arrayBaseOffset(byte[].class), bytes);
        return copy;
    }
}
