package dev.bitfusion.server.backend.cuda;

import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.server.backend.ParameterLayout;
import dev.bitfusion.server.backend.TenantMemory;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import org.agrona.BufferUtil;
import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

import static dev.bitfusion.cuda.CuResult.*;
import static jcuda.driver.JCudaDriver.*;

/**
 * A tenant's modules and kernels on a real GPU, by the handles its client chose. JCuda has no cuLibrary* API,
 * so a library the client loads becomes a module here; each kernel's parameter layout comes from its image
 * ({@link KernelSignatures}), and each kernel keeps one parameter buffer its launches are packed into.
 * <p>
 * Thread safety: used by the session's executor only.
 */
final class CudaModules
{
    private static final int[] NO_JIT_OPTIONS = new int[0];
    /** The driver wants an option value array even for no options; native memory, for the reason in moduleLoad. */
    private static final Pointer NO_JIT_OPTION_VALUES = Pointer.to(ByteBuffer.allocateDirect(Long.BYTES));

    private static final class LoadedModule
    {
        final CUmodule module;
        final KernelSignatures signatures;

        LoadedModule(final CUmodule module, final KernelSignatures signatures)
        {
            this.module = module;
            this.signatures = signatures;
        }
    }

    /**
     * A kernel as launches need it: the driver's function and its parameter buffer, with the void** array
     * pointing into that buffer built once.
     */
    static final class Kernel
    {
        final CUfunction function;
        final long moduleHandle;
        final int bufferSize;
        final UnsafeBuffer parameters;
        final Pointer kernelParams;
        /** The same void** array in native memory, for launches through {@link DriverExtras}. */
        final UnsafeBuffer nativeKernelParams;

        Kernel(final CUfunction function, final long moduleHandle, final KernelSignatures.Signature signature)
        {
            this.function = function;
            this.moduleHandle = moduleHandle;
            this.bufferSize = signature.bufferSize();
            // One fixed parameter buffer per kernel: the void** array pointing into it is built once.
            final ByteBuffer buffer = ByteBuffer.allocateDirect(Math.max(8, signature.bufferSize()));
            parameters = new UnsafeBuffer(buffer);
            final NativePointerObject[] pointers = new NativePointerObject[signature.offsets().length];
            for (int i = 0; i < pointers.length; i++)
            {
                pointers[i] = new HostPointer(parameters.addressOffset() + signature.offsets()[i]);
            }
            kernelParams = pointers.length == 0 ? null : Pointer.to(pointers);
            nativeKernelParams = new UnsafeBuffer(ByteBuffer.allocateDirect(Math.max(8, 8 * pointers.length)));
            for (int i = 0; i < pointers.length; i++)
            {
                nativeKernelParams.putLong(8 * i, parameters.addressOffset() + signature.offsets()[i]);
            }
        }
    }

    private final CudaContext context;
    private final CudaStreams streams;
    private final TenantMemory tenant;
    private final Long2ObjectHashMap<LoadedModule> modules = new Long2ObjectHashMap<>();
    private final Long2ObjectHashMap<Kernel> kernels = new Long2ObjectHashMap<>();
    private final int[] intOut = new int[1];
    private final long[] longOut = new long[1];
    /** Whether a module of this session calls printf: its synchronisations then go through DevicePrintf. */
    private boolean usesPrintf;

    CudaModules(final CudaContext context, final CudaStreams streams, final TenantMemory tenant)
    {
        this.context = context;
        this.streams = streams;
        this.tenant = tenant;
    }

    /**
     * @return the kernel a client function handle names, or null for an unknown one.
     */
    Kernel kernel(final long functionHandle)
    {
        return kernels.get(functionHandle);
    }

    /**
     * @return whether a module this tenant loaded calls printf.
     */
    boolean usesPrintf()
    {
        return usesPrintf;
    }

    int moduleLoad(final long moduleHandle, final long contextHandle, final byte[] image, final CallResult result)
    {
        if (!streams.hasContext(contextHandle))
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        if (modules.containsKey(moduleHandle) || image == null || image.length == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final byte[] driverImage = KernelSignatures.driverImage(image);
        final CUmodule module = new CUmodule();
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            // The image goes to the driver from native memory: JCuda pins a Java array for the whole call
            // (GetPrimitiveArrayCritical), and a load that compiles PTX can take seconds, during which no
            // thread of the server could collect garbage.
            final ByteBuffer nativeImage = ByteBuffer.allocateDirect(driverImage.length).put(0, driverImage);
            try
            {
                // JCuda has no cuLibrary* API: a library the client loads becomes a module here.
                status = cuModuleLoadDataEx(module, Pointer.to(nativeImage), 0, NO_JIT_OPTIONS, NO_JIT_OPTION_VALUES);
            }
            finally
            {
                BufferUtil.free(nativeImage);
            }
        }
        if (status != CUDA_SUCCESS)
        {
            result.message = "cuModuleLoadDataEx failed: " + CUresult.stringFor(status);
            return status;
        }
        final KernelSignatures signatures = KernelSignatures.of(driverImage);
        usesPrintf |= signatures.usesPrintf();
        modules.put(moduleHandle, new LoadedModule(module, signatures));
        tenant.moduleLoaded(moduleHandle, 0);
        return CUDA_SUCCESS;
    }

    int moduleUnload(final long moduleHandle)
    {
        final LoadedModule loaded = modules.remove(moduleHandle);
        if (loaded == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        kernels.values().removeIf(kernel -> kernel.moduleHandle == moduleHandle);
        tenant.moduleUnloaded(moduleHandle);
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuModuleUnload(loaded.module);
        }
        return status;
    }

    int moduleGetFunction(
        final long moduleHandle, final long functionHandle, final String name, final ParameterLayout layout)
    {
        final LoadedModule loaded = modules.get(moduleHandle);
        if (loaded == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final CUfunction function = new CUfunction();
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuModuleGetFunction(function, loaded.module, name);
        }
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        final KernelSignatures.Signature signature = loaded.signatures.kernel(name);
        if (signature == null)
        {
            System.err.println("bitfusion server: kernel " + name + " has no parameter layout in its image " +
                "(neither PTX nor cubin .nv.info): CUDA_ERROR_NOT_SUPPORTED");
            return CUDA_ERROR_NOT_SUPPORTED;
        }
        kernels.put(functionHandle, new Kernel(function, moduleHandle, signature));
        layout.reset(signature.offsets().length);
        layout.bufferSize = signature.bufferSize();
        for (int i = 0; i < layout.count; i++)
        {
            layout.offsets[i] = signature.offsets()[i];
            layout.sizes[i] = signature.sizes()[i];
        }
        return CUDA_SUCCESS;
    }

    int moduleGetGlobal(final long moduleHandle, final String name, final CallResult result)
    {
        final LoadedModule loaded = modules.get(moduleHandle);
        if (loaded == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final DevicePointer pointer = new DevicePointer();
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuModuleGetGlobal(pointer, longOut, loaded.module, name);
        }
        if (status == CUDA_SUCCESS)
        {
            // The client may copy to and from a global: it joins the ranges this tenant may name.
            tenant.addGlobal(moduleHandle, pointer.address(), longOut[0]);
            result.value1 = pointer.address();
            result.value2 = longOut[0];
        }
        return status;
    }

    int functionGetAttribute(final long functionHandle, final int attribute, final CallResult result)
    {
        final Kernel kernel = kernels.get(functionHandle);
        if (kernel == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuFuncGetAttribute(intOut, attribute, kernel.function);
        }
        if (status == CUDA_SUCCESS)
        {
            result.value1 = intOut[0];
        }
        return status;
    }

    int functionSetAttribute(final long functionHandle, final int attribute, final int value)
    {
        final Kernel kernel = kernels.get(functionHandle);
        if (kernel == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuFuncSetAttribute(kernel.function, attribute, value);
        }
        return status;
    }

    /**
     * Forget every module and kernel; with the context current, unload the modules in the driver first.
     */
    void close(final boolean contextCurrent)
    {
        if (contextCurrent)
        {
            modules.values().forEach(module -> cuModuleUnload(module.module));
        }
        modules.clear();
        kernels.clear();
    }
}
