package dev.bitfusion.systemtests;

import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.driver.RemoteDriver;

import java.nio.charset.StandardCharsets;

import static dev.bitfusion.cuda.CuResult.CUDA_SUCCESS;
import static dev.bitfusion.systemtests.Drivers.ok;

/**
 * Java values to and from the native memory the driver API takes, as tests need them: out parameters read
 * back, byte arrays copied through native memory, module images and kernel names as C data, kernel
 * parameters as a {@code void**} array, launch configs as a CUlaunchConfig. The driver call itself is made
 * unchanged, so its CUresult is what a C program would get. What returns a {@link NativeBuffer} hands it to
 * the caller to close; every other call frees the native memory it took before it returns.
 * <p>
 * Thread safety: stateless; safe from any thread.
 */
final class DriverCalls
{
    /** sizeof(CUlaunchConfig): grid, block, sharedMemBytes, hStream, attrs, numAttrs. */
    private static final int LAUNCH_CONFIG_BYTES = 56;
    /** sizeof(CUlaunchAttribute): id, then a 64-byte value union. */
    private static final int LAUNCH_ATTRIBUTE_BYTES = 72;
    private static final int CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4;
    /** Room for any out parameter the tests read: two size_t, a float, an int. */
    private static final int OUT_BYTES = 16;

    /** A driver call given the address of its out parameter. */
    @FunctionalInterface
    interface OutCall
    {
        int call(long out);
    }

    private DriverCalls()
    {
    }

    /**
     * @return the call's CUresult; what it wrote is not looked at (for calls expected to fail).
     */
    static int status(final OutCall call)
    {
        try (NativeBuffer out = NativeBuffer.allocate(OUT_BYTES))
        {
            return call.call(out.address());
        }
    }

    /**
     * @return the 64-bit value (a handle, an address, a size) the call wrote, once it succeeded.
     */
    static long longOut(final RemoteDriver driver, final String what, final OutCall call)
    {
        try (NativeBuffer out = NativeBuffer.allocate(OUT_BYTES))
        {
            ok(call.call(out.address()), what, driver);
            return out.getLong(0);
        }
    }

    /**
     * @return the int the call wrote, once it succeeded.
     */
    static int intOut(final RemoteDriver driver, final String what, final OutCall call)
    {
        try (NativeBuffer out = NativeBuffer.allocate(OUT_BYTES))
        {
            ok(call.call(out.address()), what, driver);
            return out.getInt(0);
        }
    }

    /**
     * @return the float the call wrote, once it succeeded.
     */
    static float floatOut(final RemoteDriver driver, final String what, final OutCall call)
    {
        try (NativeBuffer out = NativeBuffer.allocate(OUT_BYTES))
        {
            ok(call.call(out.address()), what, driver);
            return out.getFloat(0);
        }
    }

    static long alloc(final RemoteDriver driver, final long bytes)
    {
        return longOut(driver, "cuMemAlloc(" + bytes + ")", out -> driver.memory().cuMemAlloc(out, bytes));
    }

    static String deviceName(final RemoteDriver driver, final int device)
    {
        final int length = 256;
        try (NativeBuffer name = NativeBuffer.allocate(length))
        {
            ok(driver.devices().cuDeviceGetName(name.address(), length, device), "cuDeviceGetName", driver);
            return name.getStringWithoutLengthAscii(0, length).split("\0", 2)[0];
        }
    }

    /**
     * cuMemcpyHtoD of a whole array.
     */
    static int copyToDevice(final RemoteDriver driver, final long device, final byte[] source)
    {
        try (NativeBuffer host = copyOf(source))
        {
            return driver.memory().cuMemcpyHtoD(device, host.address(), source.length);
        }
    }

    /**
     * cuMemcpyHtoDAsync of a whole array; the bytes are sent when it returns, so its memory may go at once.
     */
    static int copyToDeviceAsync(final RemoteDriver driver, final long device, final byte[] source, final long stream)
    {
        try (NativeBuffer host = copyOf(source))
        {
            return driver.memory().cuMemcpyHtoDAsync(device, host.address(), source.length, stream);
        }
    }

    /**
     * cuMemcpyDtoH filling the whole array, which is written only when the copy succeeded.
     */
    static int copyFromDevice(final RemoteDriver driver, final byte[] destination, final long device)
    {
        return into(destination, host -> driver.memory().cuMemcpyDtoH(host, device, destination.length));
    }

    /**
     * cuMemcpyDtoHAsync filling the whole array; into pageable memory it returns with the data, as CUDA's does.
     */
    static int copyFromDeviceAsync(
        final RemoteDriver driver, final byte[] destination, final long device, final long stream)
    {
        return into(destination, host -> driver.memory().cuMemcpyDtoHAsync(host, device, destination.length, stream));
    }

    /**
     * @return a module image (a fatbin or cubin as it is, PTX text) in native memory, NUL-terminated as the
     * driver reads PTX text up to its NUL.
     */
    static NativeBuffer imageOf(final byte[] image)
    {
        final NativeBuffer buffer = NativeBuffer.allocate(image.length + 1);
        buffer.putBytes(0, image);
        return buffer;
    }

    /**
     * cuModuleLoadData of an image read into a Java array.
     */
    static int cuModuleLoadData(final RemoteDriver driver, final long module, final byte[] image)
    {
        try (NativeBuffer copy = imageOf(image))
        {
            return driver.modules().cuModuleLoadData(module, copy.address());
        }
    }

    static int cuModuleGetFunction(final RemoteDriver driver, final long function, final long module, final String name)
    {
        try (NativeBuffer cName = cString(name))
        {
            return driver.modules().cuModuleGetFunction(function, module, cName.address());
        }
    }

    static long loadModule(final RemoteDriver driver, final byte[] image)
    {
        return longOut(driver, "cuModuleLoadData", out -> cuModuleLoadData(driver, out, image));
    }

    static long function(final RemoteDriver driver, final long module, final String name)
    {
        return longOut(driver, "cuModuleGetFunction(" + name + ")", out -> cuModuleGetFunction(driver, out, module, name));
    }

    /**
     * @return a NUL-terminated copy of an ASCII string.
     */
    static NativeBuffer cString(final String text)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        final NativeBuffer buffer = NativeBuffer.allocate(bytes.length + 1);
        buffer.putBytes(0, bytes);
        return buffer;
    }

    /**
     * A kernel's parameters as cuLaunchKernel's {@code void**}: an array of pointers, each to one value (a
     * Long for a pointer or 64-bit integer, an Integer, a Float) in the same buffer, after the array.
     */
    static NativeBuffer kernelParams(final Object... parameters)
    {
        final int values = parameters.length * Long.BYTES;
        final NativeBuffer buffer = NativeBuffer.allocate(2 * values);
        for (int i = 0; i < parameters.length; i++)
        {
            final int at = values + i * Long.BYTES;
            buffer.putLong(i * Long.BYTES, buffer.address(at));
            if (parameters[i] instanceof Long value)
            {
                buffer.putLong(at, value);
            }
            else if (parameters[i] instanceof Integer value)
            {
                buffer.putInt(at, value);
            }
            else if (parameters[i] instanceof Float value)
            {
                buffer.putFloat(at, value);
            }
            else
            {
                buffer.close();
                throw new IllegalArgumentException("kernel parameter " + i + ": " + parameters[i]);
            }
        }
        return buffer;
    }

    /**
     * A one-dimensional cuLaunchKernel with its parameters packed by {@link #kernelParams}.
     */
    static int launch(
        final RemoteDriver driver, final long function, final int gridX, final int blockX, final int sharedMemBytes,
        final long stream, final Object... parameters)
    {
        try (NativeBuffer params = kernelParams(parameters))
        {
            return driver.launches().cuLaunchKernel(
                function, gridX, 1, 1, blockX, 1, 1, sharedMemBytes, stream, params.address(), 0);
        }
    }

    /**
     * A one-dimensional CUlaunchConfig, as cuLaunchKernelEx and the cluster occupancy queries take it.
     *
     * @param clusterX clusters of this many blocks (CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION x, 1, 1), or 0 for
     *                 a config without attributes.
     */
    static NativeBuffer launchConfig(
        final int gridX, final int blockX, final int sharedMemBytes, final long stream, final int clusterX)
    {
        final NativeBuffer config = NativeBuffer.allocate(LAUNCH_CONFIG_BYTES + LAUNCH_ATTRIBUTE_BYTES);
        config.putInt(0, gridX);
        config.putInt(4, 1);
        config.putInt(8, 1);
        config.putInt(12, blockX);
        config.putInt(16, 1);
        config.putInt(20, 1);
        config.putInt(24, sharedMemBytes);
        config.putLong(32, stream);
        if (clusterX > 0)
        {
            final int attribute = LAUNCH_CONFIG_BYTES;
            config.putLong(40, config.address(attribute));
            config.putInt(48, 1);
            config.putInt(attribute, CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION);
            config.putInt(attribute + 8, clusterX);
            config.putInt(attribute + 12, 1);
            config.putInt(attribute + 16, 1);
        }
        return config;
    }

    private static NativeBuffer copyOf(final byte[] bytes)
    {
        final NativeBuffer copy = NativeBuffer.allocate(bytes.length);
        copy.putBytes(0, bytes);
        return copy;
    }

    /**
     * @return the CUresult of a call that fills native memory the array's size, copied into the array when
     * the call succeeded.
     */
    private static int into(final byte[] destination, final OutCall call)
    {
        try (NativeBuffer host = NativeBuffer.allocate(destination.length))
        {
            final int status = call.call(host.address());
            if (status == CUDA_SUCCESS)
            {
                host.getBytes(0, destination);
            }
            return status;
        }
    }
}
