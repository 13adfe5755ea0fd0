package dev.bitfusion.nativebridge;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.HostMappings;
import dev.bitfusion.agent.NativeModuleImage;
import dev.bitfusion.agent.RemoteDriver;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.protocol.TensorMapArgumentsEncoder;
import dev.bitfusion.transport.protocol.TensorMapKind;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.bitfusion.transport.CuResult.*;

/**
 * The Java side of our libcuda.so.1: the C exports call these static methods through JNI, one per driver
 * function, with pointers passed as {@code long} addresses. Out parameters are written straight into the
 * application's memory. Nothing here may throw into C: every entry catches and answers with a CUresult.
 * <p>
 * Configuration comes from the environment {@code bitfusion run} prepares: {@link #SERVERS_ENV_NAME},
 * {@link #GPU_COUNT_ENV_NAME} and one of {@link #MEMORY_FRACTION_ENV_NAME} / {@link #MEMORY_MB_ENV_NAME}.
 * <p>
 * Thread safety: thread safe; RemoteDriver keeps each host thread's context stack.
 */
public final class NativeDriver
{
    /** Comma-separated HOST:PORT list; the first one serves the slice. */
    public static final String SERVERS_ENV_NAME = "BITFUSION_SERVERS";
    /** How many GPUs (-n). */
    public static final String GPU_COUNT_ENV_NAME = "BITFUSION_GPU_COUNT";
    /** Slice as a fraction of each GPU's memory (-p). */
    public static final String MEMORY_FRACTION_ENV_NAME = "BITFUSION_MEMORY_FRACTION";
    /** Slice in MiB (-m). */
    public static final String MEMORY_MB_ENV_NAME = "BITFUSION_MEMORY_MB";
    /** Tag added to the client id of the program's sessions (list_gpus), so {@code bitfusion run} can find them. */
    public static final String CLIENT_ID_ENV_NAME = "BITFUSION_CLIENT_ID";
    /** Class path of the JVM the bridge starts inside the application. */
    public static final String CLASSPATH_ENV_NAME = "BITFUSION_CLASSPATH";

    /** CU_DEVICE_ATTRIBUTE_MAX of cuda.h 13.0. */
    private static final int DEVICE_ATTRIBUTE_MAX = 148;

    /** CUmemorytype values of cuda.h that CUDA_MEMCPY2D names. */
    private static final int CU_MEMORYTYPE_HOST = 1;
    private static final int CU_MEMORYTYPE_DEVICE = 2;
    private static final int CU_MEMORYTYPE_UNIFIED = 4;

    private static final DeviceAllocations ALLOCATIONS = new DeviceAllocations();
    private static final Map<Integer, Long> ERROR_NAMES = new ConcurrentHashMap<>();
    private static final Map<Integer, Long> ERROR_STRINGS = new ConcurrentHashMap<>();
    private static final AtomicInteger LIBRARY_LOAD_FAILURES = new AtomicInteger();
    /** cuFuncGetName's strings, kept for the process's life as the driver keeps its own. */
    private static final Map<Long, Long> FUNCTION_NAMES = new ConcurrentHashMap<>();
    private static final HostMappings HOST_MAPPINGS = new HostMappings(ALLOCATIONS::isDevice);
    /** BITFUSION_TRACE, as the C side reads it. */
    private static final boolean TRACE = isTraceOn(System.getenv("BITFUSION_TRACE"));
    private static volatile RemoteDriver driver;
    private static volatile boolean closed;

    private NativeDriver()
    {
    }

    /**
     * Called once, right after the JVM starts: builds the driver from the environment.
     *
     * @return CUDA_SUCCESS, or CUDA_ERROR_NOT_INITIALIZED after one line on stderr saying why.
     */
    public static int bootstrap()
    {
        try
        {
            // Device printf goes to file descriptor 1, as the driver's does, wherever System.out was pointed.
            driver = new RemoteDriver(settingsFromEnvironment(System.getenv()),
                new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8));
            driver.hostMappings(HOST_MAPPINGS);
            return CUDA_SUCCESS;
        }
        catch (final Throwable ex)
        {
            System.err.println("bitfusion: cannot start the CUDA bridge: " + ex.getMessage());
            return CUDA_ERROR_NOT_INITIALIZED;
        }
    }

    /**
     * @param environment variables as {@code bitfusion run} sets them.
     * @return settings for the slice they describe.
     */
    public static ClientSettings settingsFromEnvironment(final Map<String, String> environment)
    {
        final String servers = environment.get(SERVERS_ENV_NAME);
        if (servers == null || servers.isBlank())
        {
            throw new IllegalArgumentException(SERVERS_ENV_NAME + " is not set: start the program with `bitfusion run`");
        }
        final ClientSettings settings = new ClientSettings()
            .server(Endpoint.parse(servers.split(",")[0].strip()))
            .gpuCount(Integer.parseInt(environment.getOrDefault(GPU_COUNT_ENV_NAME, "1").strip()));
        final String tag = environment.get(CLIENT_ID_ENV_NAME);
        if (tag != null && !tag.isBlank())
        {
            settings.clientId(settings.clientId() + " [" + tag.strip() + "]");
        }
        final String fraction = environment.get(MEMORY_FRACTION_ENV_NAME);
        final String megabytes = environment.get(MEMORY_MB_ENV_NAME);
        if (fraction != null && !fraction.isBlank())
        {
            settings.memoryFraction(Double.parseDouble(fraction.strip()));
        }
        if (megabytes != null && !megabytes.isBlank())
        {
            settings.memoryMb(Long.parseLong(megabytes.strip()));
        }
        return settings.conclude();
    }

    /**
     * Called at process exit: closes the sessions so the server frees the slices at once.
     */
    public static void shutdown()
    {
        closed = true;
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

    // ---------------------------------------------------------------- initialisation and devices

    public static int cuInit(final long flags)
    {
        try
        {
            final int status = driver().cuInit((int)flags);
            if (status != CUDA_SUCCESS && driver.lastError() != null)
            {
                System.err.println("bitfusion: cuInit failed: " + driver.lastError());
            }
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuInit", ex);
        }
    }

    public static int cuDeviceGetCount(final long count)
    {
        try
        {
            final int[] value = new int[1];
            final int status = driver().cuDeviceGetCount(value);
            putInt(status, count, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuDeviceGetCount", ex);
        }
    }

    public static int cuDeviceGet(final long device, final long ordinal)
    {
        try
        {
            final int[] value = new int[1];
            final int status = driver().cuDeviceGet(value, (int)ordinal);
            putInt(status, device, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuDeviceGet", ex);
        }
    }

    public static int cuDeviceCheck(final long device)
    {
        try
        {
            final int[] count = new int[1];
            final int status = driver().cuDeviceGetCount(count);
            return status != CUDA_SUCCESS ? status : device >= 0 && device < count[0] ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
        }
        catch (final Throwable ex)
        {
            return failed("cuDeviceCheck", ex);
        }
    }

    public static int cuDeviceGetName(final long name, final long length, final long device)
    {
        try
        {
            if (name == 0 || length <= 0)
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            final String[] value = new String[1];
            final int status = driver().cuDeviceGetName(value, (int)device);
            if (status == CUDA_SUCCESS)
            {
                final byte[] bytes = value[0].getBytes(StandardCharsets.UTF_8);
                final int copied = (int)Math.min(bytes.length, length - 1);
                new UnsafeBuffer(name, copied + 1).putBytes(0, bytes, 0, copied);
                UnsafeApi.putByte(name + copied, (byte)0);
            }
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuDeviceGetName", ex);
        }
    }

    public static int cuDeviceTotalMem(final long bytes, final long device)
    {
        try
        {
            final long[] value = new long[1];
            final int status = driver().cuDeviceTotalMem(value, (int)device);
            putLong(status, bytes, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuDeviceTotalMem", ex);
        }
    }

    public static int cuDeviceGetAttribute(final long value, final long attribute, final long device)
    {
        try
        {
            final int[] result = new int[1];
            int status = driver().cuDeviceGetAttribute(result, (int)attribute, (int)device);
            if (status == CUDA_ERROR_INVALID_VALUE && attribute > 0 && attribute < DEVICE_ATTRIBUTE_MAX)
            {
                // A valid attribute the server does not report is a feature the slice does not offer: 0, as
                // the driver answers for absent features (runtimes query them all for cudaGetDeviceProperties).
                result[0] = 0;
                status = CUDA_SUCCESS;
            }
            putInt(status, value, result[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuDeviceGetAttribute", ex);
        }
    }

    public static int cuDeviceGetUuid(final long uuid, final long device)
    {
        try
        {
            if (uuid == 0)
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            final byte[] value = new byte[16];
            final int status = driver().cuDeviceGetUuid(value, (int)device);
            if (status == CUDA_SUCCESS)
            {
                new UnsafeBuffer(uuid, value.length).putBytes(0, value);
            }
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuDeviceGetUuid", ex);
        }
    }

    public static int cuDeviceComputeCapability(final long major, final long minor, final long device)
    {
        try
        {
            final int[] majorValue = new int[1];
            final int[] minorValue = new int[1];
            final int status = driver().cuDeviceComputeCapability(majorValue, minorValue, (int)device);
            putInt(status, major, majorValue[0]);
            putInt(status, minor, minorValue[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuDeviceComputeCapability", ex);
        }
    }

    // ---------------------------------------------------------------- contexts

    public static int cuDevicePrimaryCtxRetain(final long context, final long device)
    {
        try
        {
            final long[] value = new long[1];
            final int status = driver().cuDevicePrimaryCtxRetain(value, (int)device);
            putLong(status, context, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuDevicePrimaryCtxRetain", ex);
        }
    }

    public static int cuDevicePrimaryCtxRelease(final long device)
    {
        try
        {
            return closed ? CUDA_SUCCESS : driver().cuDevicePrimaryCtxRelease((int)device);
        }
        catch (final Throwable ex)
        {
            return failed("cuDevicePrimaryCtxRelease", ex);
        }
    }

    public static int cuDevicePrimaryCtxReset(final long device)
    {
        try
        {
            final int status = driver().cuDevicePrimaryCtxReset((int)device);
            if (status == CUDA_SUCCESS)
            {
                ALLOCATIONS.clear((int)device);
            }
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuDevicePrimaryCtxReset", ex);
        }
    }

    public static int cuDevicePrimaryCtxGetState(final long device, final long flags, final long active)
    {
        try
        {
            final int status = cuDeviceCheck(device);
            // The primary context exists on the server for as long as the session does.
            putInt(status, flags, 0);
            putInt(status, active, 1);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuDevicePrimaryCtxGetState", ex);
        }
    }

    public static int cuCtxCreate(final long context, final long flags, final long device)
    {
        try
        {
            final long[] value = new long[1];
            final int status = driver().cuCtxCreate(value, (int)flags, (int)device);
            putLong(status, context, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuCtxCreate", ex);
        }
    }

    public static int cuCtxDestroy(final long context)
    {
        try
        {
            return driver().cuCtxDestroy(context);
        }
        catch (final Throwable ex)
        {
            return failed("cuCtxDestroy", ex);
        }
    }

    public static int cuCtxSetCurrent(final long context)
    {
        try
        {
            return driver().cuCtxSetCurrent(context);
        }
        catch (final Throwable ex)
        {
            return failed("cuCtxSetCurrent", ex);
        }
    }

    public static int cuCtxGetCurrent(final long context)
    {
        try
        {
            final long[] value = new long[1];
            final int status = driver().cuCtxGetCurrent(value);
            putLong(status, context, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuCtxGetCurrent", ex);
        }
    }

    public static int cuCtxPushCurrent(final long context)
    {
        try
        {
            return driver().cuCtxPushCurrent(context);
        }
        catch (final Throwable ex)
        {
            return failed("cuCtxPushCurrent", ex);
        }
    }

    public static int cuCtxPopCurrent(final long context)
    {
        try
        {
            final long[] value = new long[1];
            final int status = driver().cuCtxPopCurrent(value);
            putLong(status, context, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuCtxPopCurrent", ex);
        }
    }

    public static int cuCtxGetDevice(final long device)
    {
        try
        {
            final int[] value = new int[1];
            final int status = driver().cuCtxGetDevice(value);
            putInt(status, device, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuCtxGetDevice", ex);
        }
    }

    public static int cuCtxSynchronize()
    {
        try
        {
            return driver().cuCtxSynchronize();
        }
        catch (final Throwable ex)
        {
            return failed("cuCtxSynchronize", ex);
        }
    }

    // ---------------------------------------------------------------- memory

    public static int cuMemAlloc(final long pointer, final long bytes)
    {
        try
        {
            final long[] value = new long[1];
            final int[] device = new int[1];
            int status = driver().cuCtxGetDevice(device);
            if (status == CUDA_SUCCESS)
            {
                status = driver.cuMemAlloc(value, bytes);
            }
            if (status == CUDA_SUCCESS)
            {
                ALLOCATIONS.add(value[0], bytes, device[0]);
            }
            putLong(status, pointer, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuMemAlloc", ex);
        }
    }

    /**
     * cuMemGetAddressRange_v2 from this process's own table of device ranges: no round trip.
     *
     * @return CUDA_ERROR_NOT_FOUND when the address is in no device allocation, as the driver answers.
     */
    public static int cuMemGetAddressRange(final long baseOut, final long sizeOut, final long address)
    {
        final long base = ALLOCATIONS.baseOf(address);
        if (base == 0)
        {
            return CUDA_ERROR_NOT_FOUND;
        }
        putLong(CUDA_SUCCESS, baseOut, base);
        putLong(CUDA_SUCCESS, sizeOut, ALLOCATIONS.lengthOf(base));
        return CUDA_SUCCESS;
    }

    public static int cuMemFree(final long pointer)
    {
        try
        {
            if (closed)
            {
                return CUDA_SUCCESS;
            }
            final int status = driver().cuMemFree(pointer);
            if (status == CUDA_SUCCESS)
            {
                ALLOCATIONS.remove(pointer);
            }
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuMemFree", ex);
        }
    }

    public static int cuMemGetInfo(final long free, final long total)
    {
        try
        {
            final long[] freeValue = new long[1];
            final long[] totalValue = new long[1];
            final int status = driver().cuMemGetInfo(freeValue, totalValue);
            putLong(status, free, freeValue[0]);
            putLong(status, total, totalValue[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuMemGetInfo", ex);
        }
    }

    public static int cuMemcpyHtoD(final long dst, final long src, final long bytes)
    {
        return cuMemcpyHtoDAsync(dst, src, bytes, 0);
    }

    public static int cuMemcpyHtoDAsync(final long dst, final long src, final long bytes, final long stream)
    {
        try
        {
            return driver().cuMemcpyHtoDAsync(dst, src, bytes, stream);
        }
        catch (final Throwable ex)
        {
            return failed("cuMemcpyHtoD", ex);
        }
    }

    public static int cuMemcpyDtoH(final long dst, final long src, final long bytes)
    {
        return cuMemcpyDtoHAsync(dst, src, bytes, 0);
    }

    public static int cuMemcpyDtoHAsync(final long dst, final long src, final long bytes, final long stream)
    {
        try
        {
            return driver().cuMemcpyDtoHAsync(dst, src, bytes, stream);
        }
        catch (final Throwable ex)
        {
            return failed("cuMemcpyDtoH", ex);
        }
    }

    public static int cuMemcpyDtoD(final long dst, final long src, final long bytes)
    {
        return cuMemcpyDtoDAsync(dst, src, bytes, 0);
    }

    public static int cuMemcpyDtoDAsync(final long dst, final long src, final long bytes, final long stream)
    {
        try
        {
            final int dstDevice = ALLOCATIONS.deviceOf(dst);
            final int srcDevice = ALLOCATIONS.deviceOf(src);
            if (dstDevice >= 0 && srcDevice >= 0 && dstDevice != srcDevice)
            {
                return copyBetweenDevices(dst, dstDevice, src, srcDevice, bytes, stream);
            }
            return driver().cuMemcpyDtoDAsync(dst, src, bytes, stream);
        }
        catch (final Throwable ex)
        {
            return failed("cuMemcpyDtoD", ex);
        }
    }

    public static int cuMemcpy(final long dst, final long src, final long bytes)
    {
        return cuMemcpyAsync(dst, src, bytes, 0);
    }

    /**
     * cuMemcpyPeer(Async): the contexts name the GPUs. The copy waits for the stream's earlier work first.
     */
    public static int cuMemcpyPeer(
        final long dst, final long dstContext, final long src, final long srcContext, final long bytes, final long stream)
    {
        try
        {
            final RemoteDriver remote = driver();
            final int dstDevice = remote.deviceOf(dstContext);
            final int srcDevice = remote.deviceOf(srcContext);
            if (dstDevice < 0 || srcDevice < 0)
            {
                return CUDA_ERROR_INVALID_CONTEXT;
            }
            return dstDevice == srcDevice ? remote.cuMemcpyDtoDAsync(dst, src, bytes, stream) :
                copyBetweenDevices(dst, dstDevice, src, srcDevice, bytes, stream);
        }
        catch (final Throwable ex)
        {
            return failed("cuMemcpyPeer", ex);
        }
    }

    /** Through this process (see RemoteDriver.cuMemcpyPeer), once the stream's earlier work is done. */
    private static int copyBetweenDevices(
        final long dst, final int dstDevice, final long src, final int srcDevice, final long bytes, final long stream)
    {
        final int status = driver().cuStreamSynchronize(stream);
        return status == CUDA_SUCCESS ? driver.cuMemcpyPeer(dst, dstDevice, src, srcDevice, bytes) : status;
    }

    /**
     * Unified-addressing copy: the direction comes from the client's table of device ranges. Host-to-host
     * copies wait for the stream first, so they stay in order with the work queued before them.
     */
    public static int cuMemcpyAsync(final long dst, final long src, final long bytes, final long stream)
    {
        try
        {
            final boolean dstDevice = ALLOCATIONS.isDevice(dst);
            final boolean srcDevice = ALLOCATIONS.isDevice(src);
            if (dstDevice)
            {
                return srcDevice ? cuMemcpyDtoDAsync(dst, src, bytes, stream) :
                    driver().cuMemcpyHtoDAsync(dst, src, bytes, stream);
            }
            if (srcDevice)
            {
                return driver().cuMemcpyDtoHAsync(dst, src, bytes, stream);
            }
            final int status = driver().cuStreamSynchronize(stream);
            if (status == CUDA_SUCCESS && bytes > 0)
            {
                UnsafeApi.copyMemory(src, dst, bytes);
            }
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuMemcpy", ex);
        }
    }

    /**
     * A CUDA_MEMCPY2D copy, row by row (one call when both sides are contiguous). Arrays are not
     * supported; unified addresses are resolved through the client's table of device ranges.
     * <pre>
     *   0 srcXInBytes   8 srcY   16 srcMemoryType   24 srcHost   32 srcDevice   40 srcArray   48 srcPitch
     *  56 dstXInBytes  64 dstY   72 dstMemoryType   80 dstHost   88 dstDevice   96 dstArray  104 dstPitch
     * 112 WidthInBytes 120 Height
     * </pre>
     *
     * @param copy        address of the descriptor.
     * @param stream      stream of the copy.
     * @param synchronous whether the copy must be complete on return (cuMemcpy2D, not ...Async).
     */
    public static int cuMemcpy2D(final long copy, final long stream, final boolean synchronous)
    {
        try
        {
            final long width = UnsafeApi.getLong(copy + 112);
            final long height = UnsafeApi.getLong(copy + 120);
            final long srcPitch = UnsafeApi.getLong(copy + 48);
            final long dstPitch = UnsafeApi.getLong(copy + 104);
            final long src = copyBase(copy, 0);
            final long dst = copyBase(copy, 56);
            if (src == -1 || dst == -1)
            {
                return unsupported("cuMemcpy2D with a CUDA array");
            }
            if (src == 0 || dst == 0 || height > 1 && (srcPitch < width || dstPitch < width))
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            final boolean srcDevice = isDeviceSide(copy, 16, src);
            final boolean dstDevice = isDeviceSide(copy, 72, dst);
            final boolean contiguous = height <= 1 || srcPitch == width && dstPitch == width;
            final long rows = contiguous ? 1 : height;
            final long rowBytes = contiguous ? width * Math.max(1, height) : width;
            if (!dstDevice && !srcDevice)
            {
                final int status = driver().cuStreamSynchronize(stream);
                for (long row = 0; status == CUDA_SUCCESS && row < rows; row++)
                {
                    UnsafeApi.copyMemory(src + row * srcPitch, dst + row * dstPitch, rowBytes);
                }
                return status;
            }
            for (long row = 0; row < rows; row++)
            {
                final long from = src + row * srcPitch;
                final long to = dst + row * dstPitch;
                final int status = dstDevice ?
                    srcDevice ? driver().cuMemcpyDtoDAsync(to, from, rowBytes, stream) :
                        driver().cuMemcpyHtoDAsync(to, from, rowBytes, stream) :
                    driver().cuMemcpyDtoHAsync(to, from, rowBytes, stream);
                if (status != CUDA_SUCCESS)
                {
                    return status;
                }
            }
            // Device-to-host rows are complete on return already; the others only need ordering.
            return synchronous && dstDevice ? driver().cuStreamSynchronize(stream) : CUDA_SUCCESS;
        }
        catch (final Throwable ex)
        {
            return failed("cuMemcpy2D", ex);
        }
    }

    /** First byte one side of a CUDA_MEMCPY2D names, 0 when invalid, -1 for an array. */
    private static long copyBase(final long copy, final int side)
    {
        final long x = UnsafeApi.getLong(copy + side);
        final long y = UnsafeApi.getLong(copy + side + 8);
        final long pitch = UnsafeApi.getLong(copy + side + 48);
        switch (UnsafeApi.getInt(copy + side + 16))
        {
            case CU_MEMORYTYPE_HOST:
                final long host = UnsafeApi.getLong(copy + side + 24);
                return host == 0 ? 0 : host + y * pitch + x;
            case CU_MEMORYTYPE_DEVICE:
            case CU_MEMORYTYPE_UNIFIED:
                final long device = UnsafeApi.getLong(copy + side + 32);
                return device == 0 ? 0 : device + y * pitch + x;
            case 3: // CU_MEMORYTYPE_ARRAY
                return -1;
            default:
                return 0;
        }
    }

    private static boolean isDeviceSide(final long copy, final int typeOffset, final long address)
    {
        final int type = UnsafeApi.getInt(copy + typeOffset);
        return type == CU_MEMORYTYPE_DEVICE || type == CU_MEMORYTYPE_UNIFIED && ALLOCATIONS.isDevice(address);
    }

    private static int unsupported(final String what)
    {
        System.err.println("bitfusion: " + what + " is not supported yet (CUDA_ERROR_NOT_SUPPORTED)");
        return CUDA_ERROR_NOT_SUPPORTED;
    }

    public static int cuMemsetD8(final long dst, final long value, final long count)
    {
        return cuMemsetD8Async(dst, value, count, 0);
    }

    public static int cuMemsetD16(final long dst, final long value, final long count)
    {
        return cuMemsetD16Async(dst, value, count, 0);
    }

    public static int cuMemsetD32(final long dst, final long value, final long count)
    {
        return cuMemsetD32Async(dst, value, count, 0);
    }

    public static int cuMemsetD8Async(final long dst, final long value, final long count, final long stream)
    {
        try
        {
            return driver().cuMemsetD8Async(dst, (int)value, count, stream);
        }
        catch (final Throwable ex)
        {
            return failed("cuMemsetD8", ex);
        }
    }

    public static int cuMemsetD16Async(final long dst, final long value, final long count, final long stream)
    {
        try
        {
            return driver().cuMemsetD16Async(dst, (int)value, count, stream);
        }
        catch (final Throwable ex)
        {
            return failed("cuMemsetD16", ex);
        }
    }

    public static int cuMemsetD32Async(final long dst, final long value, final long count, final long stream)
    {
        try
        {
            return driver().cuMemsetD32Async(dst, (int)value, count, stream);
        }
        catch (final Throwable ex)
        {
            return failed("cuMemsetD32", ex);
        }
    }

    // ---------------------------------------------------------------- streams and events

    public static int cuStreamCreate(final long stream, final long flags, final long priority)
    {
        try
        {
            final long[] value = new long[1];
            final int status = driver().cuStreamCreateWithPriority(value, (int)flags, (int)priority);
            putLong(status, stream, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuStreamCreate", ex);
        }
    }

    public static int cuStreamDestroy(final long stream)
    {
        try
        {
            return closed ? CUDA_SUCCESS : driver().cuStreamDestroy(stream);
        }
        catch (final Throwable ex)
        {
            return failed("cuStreamDestroy", ex);
        }
    }

    public static int cuStreamSynchronize(final long stream)
    {
        try
        {
            return driver().cuStreamSynchronize(stream);
        }
        catch (final Throwable ex)
        {
            return failed("cuStreamSynchronize", ex);
        }
    }

    public static int cuStreamQuery(final long stream)
    {
        try
        {
            return driver().cuStreamQuery(stream);
        }
        catch (final Throwable ex)
        {
            return failed("cuStreamQuery", ex);
        }
    }

    public static int cuStreamWaitEvent(final long stream, final long event, final long flags)
    {
        try
        {
            return driver().cuStreamWaitEvent(stream, event, (int)flags);
        }
        catch (final Throwable ex)
        {
            return failed("cuStreamWaitEvent", ex);
        }
    }

    public static int cuEventCreate(final long event, final long flags)
    {
        try
        {
            final long[] value = new long[1];
            final int status = driver().cuEventCreate(value, (int)flags);
            putLong(status, event, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuEventCreate", ex);
        }
    }

    public static int cuEventRecord(final long event, final long stream)
    {
        try
        {
            return driver().cuEventRecord(event, stream);
        }
        catch (final Throwable ex)
        {
            return failed("cuEventRecord", ex);
        }
    }

    public static int cuEventQuery(final long event)
    {
        try
        {
            return driver().cuEventQuery(event);
        }
        catch (final Throwable ex)
        {
            return failed("cuEventQuery", ex);
        }
    }

    public static int cuEventSynchronize(final long event)
    {
        try
        {
            return driver().cuEventSynchronize(event);
        }
        catch (final Throwable ex)
        {
            return failed("cuEventSynchronize", ex);
        }
    }

    public static int cuEventElapsedTime(final long milliseconds, final long start, final long end)
    {
        try
        {
            final float[] value = new float[1];
            final int status = driver().cuEventElapsedTime(value, start, end);
            if (status == CUDA_SUCCESS && milliseconds != 0)
            {
                UnsafeApi.putFloat(milliseconds, value[0]);
            }
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuEventElapsedTime", ex);
        }
    }

    public static int cuEventDestroy(final long event)
    {
        try
        {
            return closed ? CUDA_SUCCESS : driver().cuEventDestroy(event);
        }
        catch (final Throwable ex)
        {
            return failed("cuEventDestroy", ex);
        }
    }

    // ---------------------------------------------------------------- modules and kernels

    public static int cuModuleLoadData(final long module, final long image, final long bytes)
    {
        try
        {
            if (bytes <= 0 || bytes > Integer.MAX_VALUE)
            {
                return CUDA_ERROR_INVALID_IMAGE;
            }
            final long[] value = new long[1];
            final int status;
            try (NativeModuleImage copy = NativeModuleImage.copyOf(image, (int)bytes))
            {
                status = driver().cuModuleLoadData(value, copy);
            }
            if (status != CUDA_SUCCESS && driver.lastError() != null)
            {
                System.err.println("bitfusion: module load failed: " + driver.lastError());
            }
            putLong(status, module, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuModuleLoadData", ex);
        }
    }

    /**
     * A library loads lazily (see {@link RemoteDriver#cuLibraryLoadData}): a preserved image is read where the
     * program keeps it when the library ships; any other image is copied now, as the driver would.
     */
    public static int cuLibraryLoadData(final long library, final long image, final long bytes, final long preserved)
    {
        try
        {
            if (bytes <= 0 || bytes > Integer.MAX_VALUE)
            {
                return CUDA_ERROR_INVALID_IMAGE;
            }
            final long[] value = new long[1];
            final int status;
            try (RemoteDriver.ModuleImage source = preserved != 0 ? () -> copyOf(image, bytes) :
                NativeModuleImage.copyOf(image, (int)bytes))
            {
                status = driver().cuLibraryLoadData(value, source);
            }
            putLong(status, library, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuLibraryLoadData", ex);
        }
    }

    /**
     * Libraries such as cuDNN probe engine after engine until one loads, so only the first failure is told
     * in full; the rest are counted there, and all are told with BITFUSION_TRACE.
     */
    private static void reportLibraryLoadFailure(final String why)
    {
        final int failures = LIBRARY_LOAD_FAILURES.incrementAndGet();
        if (failures == 1 || TRACE)
        {
            System.err.println("bitfusion: library load failed: " + why + (TRACE ? "" :
                " (later failures are not shown; BITFUSION_TRACE=1 shows each)"));
        }
    }

    private static boolean isTraceOn(final String value)
    {
        return value != null && !value.isEmpty() && !"0".equals(value);
    }

    private static byte[] copyOf(final long address, final long bytes)
    {
        final byte[] copy = new byte[(int)bytes];
        new UnsafeBuffer(address, (int)bytes).getBytes(0, copy);
        return copy;
    }

    public static int cuModuleUnload(final long module)
    {
        try
        {
            return closed ? CUDA_SUCCESS : driver().cuModuleUnload(module);
        }
        catch (final Throwable ex)
        {
            return failed("cuModuleUnload", ex);
        }
    }

    public static int cuModuleGetFunction(final long function, final long module, final long name)
    {
        try
        {
            if (function == 0 || name == 0)
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            final RemoteDriver remote = driver();
            final boolean shipsNow = remote.isUnshippedLibrary(module);
            final long[] value = new long[1];
            final int status = remote.cuModuleGetFunction(value, module, cString(name));
            if (shipsNow && status != CUDA_SUCCESS && remote.lastError() != null)
            {
                reportLibraryLoadFailure(remote.lastError());
            }
            putLong(status, function, value[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuModuleGetFunction", ex);
        }
    }

    public static int cuModuleGetGlobal(final long pointer, final long bytes, final long module, final long name)
    {
        try
        {
            if (name == 0)
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            final long[] address = new long[1];
            final long[] size = new long[1];
            final int status = driver().cuModuleGetGlobal(address, size, module, cString(name));
            final int[] device = new int[1];
            if (status == CUDA_SUCCESS && driver.cuCtxGetDevice(device) == CUDA_SUCCESS)
            {
                ALLOCATIONS.add(address[0], size[0], device[0]);
            }
            putLong(status, pointer, address[0]);
            putLong(status, bytes, size[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuModuleGetGlobal", ex);
        }
    }

    /**
     * host_memory.c gave mapped host memory a device copy: kernels handed the host address get the copy's.
     */
    public static int mapHostRange(final long host, final long bytes, final long device)
    {
        HOST_MAPPINGS.add(host, bytes, device);
        return CUDA_SUCCESS;
    }

    public static int unmapHostRange(final long host)
    {
        HOST_MAPPINGS.remove(host);
        return CUDA_SUCCESS;
    }

    /**
     * cuStreamGetCtx (what 0), cuStreamGetDevice (1), cuStreamGetFlags (2) or cuStreamGetId (3).
     *
     * @param size bytes of the answer's type: 4 for the device and flags, 8 for the context and id.
     */
    public static int streamQuery(final long stream, final long what, final long answer, final long size)
    {
        try
        {
            if (answer == 0 || what < 0 || what > 3)
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            final long[] answers = new long[4];
            final int status = driver().streamQuery(stream, answers);
            if (status == CUDA_SUCCESS)
            {
                if (size == Integer.BYTES)
                {
                    UnsafeApi.putInt(answer, (int)answers[(int)what]);
                }
                else
                {
                    UnsafeApi.putLong(answer, answers[(int)what]);
                }
            }
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuStreamGet*", ex);
        }
    }

    public static int cuFuncGetName(final long name, final long function)
    {
        try
        {
            final String known = name == 0 ? null : driver().functionName(function);
            if (known == null)
            {
                return name == 0 ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_INVALID_HANDLE;
            }
            putLong(CUDA_SUCCESS, name, FUNCTION_NAMES.computeIfAbsent(function, ignore -> nativeString(known)));
            return CUDA_SUCCESS;
        }
        catch (final Throwable ex)
        {
            return failed("cuFuncGetName", ex);
        }
    }

    public static int cuFuncGetModule(final long module, final long function)
    {
        try
        {
            final long known = module == 0 ? 0 : driver().functionModule(function);
            if (known == 0)
            {
                return module == 0 ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_INVALID_HANDLE;
            }
            putLong(CUDA_SUCCESS, module, known);
            return CUDA_SUCCESS;
        }
        catch (final Throwable ex)
        {
            return failed("cuFuncGetModule", ex);
        }
    }

    public static int cuFuncGetParamInfo(final long function, final long index, final long offset, final long size)
    {
        try
        {
            final long[] offsetAndSize = new long[2];
            final int status = driver().cuFuncGetParamInfo(function, index, offsetAndSize);
            putLong(status, offset, offsetAndSize[0]);
            putLong(status, size, offsetAndSize[1]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuFuncGetParamInfo", ex);
        }
    }

    /**
     * cuOccupancyMaxActiveClusters (query 0) and cuOccupancyMaxPotentialClusterSize (query 1).
     */
    public static int cuOccupancyClusters(
        final long value, final long query, final long function, final long gridX, final long gridY, final long gridZ,
        final long blockX, final long blockY, final long blockZ, final long sharedMemBytes,
        final long clusterX, final long clusterY, final long clusterZ)
    {
        try
        {
            if (value == 0)
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            final int[] result = new int[1];
            final int status = driver().cuOccupancyClusters(result, (int)query, function,
                new int[]{ (int)gridX, (int)gridY, (int)gridZ }, new int[]{ (int)blockX, (int)blockY, (int)blockZ },
                (int)sharedMemBytes, new int[]{ (int)clusterX, (int)clusterY, (int)clusterZ });
            putInt(status, value, result[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuOccupancyClusters", ex);
        }
    }

    // ---------------------------------------------------------------- tensor maps

    public static int cuTensorMapEncodeTiled(
        final long tensorMap, final long dataType, final long rank, final long globalAddress, final long globalDim,
        final long globalStrides, final long boxDim, final long elementStrides,
        final long interleave, final long swizzle, final long l2Promotion, final long oobFill)
    {
        try
        {
            final TensorMapArgumentsEncoder request = tensorMapArguments(TensorMapKind.TILED, dataType, rank,
                globalAddress, interleave, swizzle, l2Promotion, oobFill);
            for (int i = 0; i < elements(globalDim, rank, TensorMapArgumentsEncoder.globalDimLength()); i++)
            {
                request.globalDim(i, UnsafeApi.getLong(globalDim + (long)Long.BYTES * i));
            }
            for (int i = 0; i < elements(globalStrides, rank - 1, TensorMapArgumentsEncoder.globalStridesLength()); i++)
            {
                request.globalStrides(i, UnsafeApi.getLong(globalStrides + (long)Long.BYTES * i));
            }
            for (int i = 0; i < elements(boxDim, rank, TensorMapArgumentsEncoder.boxDimLength()); i++)
            {
                request.boxDim(i, unsignedIntAt(boxDim, i));
            }
            copyElementStrides(request, elementStrides, rank);
            return driver().cuTensorMapEncode(request.buffer(), tensorMap);
        }
        catch (final Throwable ex)
        {
            return failed("cuTensorMapEncodeTiled", ex);
        }
    }

    public static int cuTensorMapEncodeIm2col(
        final long tensorMap, final long dataType, final long rank, final long globalAddress, final long globalDim,
        final long globalStrides, final long lowerCorner, final long upperCorner, final long channelsPerPixel,
        final long pixelsPerColumn, final long elementStrides,
        final long interleave, final long swizzle, final long l2Promotion, final long oobFill)
    {
        try
        {
            final TensorMapArgumentsEncoder request = tensorMapArguments(TensorMapKind.IM2COL, dataType, rank,
                globalAddress, interleave, swizzle, l2Promotion, oobFill)
                .channelsPerPixel(channelsPerPixel & 0xFFFF_FFFFL)
                .pixelsPerColumn(pixelsPerColumn & 0xFFFF_FFFFL);
            for (int i = 0; i < elements(globalDim, rank, TensorMapArgumentsEncoder.globalDimLength()); i++)
            {
                request.globalDim(i, UnsafeApi.getLong(globalDim + (long)Long.BYTES * i));
            }
            for (int i = 0; i < elements(globalStrides, rank - 1, TensorMapArgumentsEncoder.globalStridesLength()); i++)
            {
                request.globalStrides(i, UnsafeApi.getLong(globalStrides + (long)Long.BYTES * i));
            }
            for (int i = 0; i < elements(lowerCorner, rank - 2, TensorMapArgumentsEncoder.lowerCornerLength()); i++)
            {
                request.lowerCorner(i, UnsafeApi.getInt(lowerCorner + (long)Integer.BYTES * i));
            }
            for (int i = 0; i < elements(upperCorner, rank - 2, TensorMapArgumentsEncoder.upperCornerLength()); i++)
            {
                request.upperCorner(i, UnsafeApi.getInt(upperCorner + (long)Integer.BYTES * i));
            }
            copyElementStrides(request, elementStrides, rank);
            return driver().cuTensorMapEncode(request.buffer(), tensorMap);
        }
        catch (final Throwable ex)
        {
            return failed("cuTensorMapEncodeIm2col", ex);
        }
    }

    public static int cuTensorMapReplaceAddress(final long tensorMap, final long globalAddress)
    {
        try
        {
            final TensorMapArgumentsEncoder request = tensorMapArguments(TensorMapKind.REPLACE_ADDRESS, 0, 0,
                globalAddress, 0, 0, 0, 0);
            request.putTensorMap(new UnsafeBuffer(tensorMap, TensorMapArgumentsEncoder.tensorMapLength()), 0,
                TensorMapArgumentsEncoder.tensorMapLength());
            return driver().cuTensorMapEncode(request.buffer(), tensorMap);
        }
        catch (final Throwable ex)
        {
            return failed("cuTensorMapReplaceAddress", ex);
        }
    }

    private static TensorMapArgumentsEncoder tensorMapArguments(
        final TensorMapKind kind, final long dataType, final long rank, final long globalAddress,
        final long interleave, final long swizzle, final long l2Promotion, final long oobFill)
    {
        return new TensorMapArgumentsEncoder()
            .wrap(new UnsafeBuffer(new byte[TensorMapArgumentsEncoder.ENCODED_LENGTH]), 0)
            .kind(kind)
            .dataType((int)dataType)
            .rank((int)rank)
            .interleave((int)interleave)
            .swizzle((int)swizzle)
            .l2Promotion((int)l2Promotion)
            .oobFill((int)oobFill)
            .globalAddress(globalAddress);
    }

    private static void copyElementStrides(final TensorMapArgumentsEncoder request, final long elementStrides, final long rank)
    {
        for (int i = 0; i < elements(elementStrides, rank, TensorMapArgumentsEncoder.elementStridesLength()); i++)
        {
            request.elementStrides(i, unsignedIntAt(elementStrides, i));
        }
    }

    /**
     * @return how many elements of a caller's array travel: {@code count}, none for a NULL array, and no more than
     * the protocol holds (a larger rank is refused by the server).
     */
    private static int elements(final long array, final long count, final int capacity)
    {
        return array == 0 ? 0 : (int)Math.max(0, Math.min(count, capacity));
    }

    private static long unsignedIntAt(final long array, final int index)
    {
        return UnsafeApi.getInt(array + (long)Integer.BYTES * index) & 0xFFFF_FFFFL;
    }

    public static int cuCtxGetLimit(final long value, final long limit)
    {
        try
        {
            if (value == 0)
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            final long[] result = new long[1];
            final int status = driver().cuCtxGetLimit(result, (int)limit);
            putLong(status, value, result[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuCtxGetLimit", ex);
        }
    }

    public static int cuCtxSetLimit(final long limit, final long value)
    {
        try
        {
            return driver().cuCtxSetLimit((int)limit, value);
        }
        catch (final Throwable ex)
        {
            return failed("cuCtxSetLimit", ex);
        }
    }

    public static int cuFuncGetAttribute(final long value, final long attribute, final long function)
    {
        try
        {
            final int[] result = new int[1];
            final int status = driver().cuFuncGetAttribute(result, (int)attribute, function);
            putInt(status, value, result[0]);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuFuncGetAttribute", ex);
        }
    }

    public static int cuFuncSetAttribute(final long function, final long attribute, final long value)
    {
        try
        {
            return driver().cuFuncSetAttribute(function, (int)attribute, (int)value);
        }
        catch (final Throwable ex)
        {
            return failed("cuFuncSetAttribute", ex);
        }
    }

    /**
     * How many blocks of a kernel fit on one multiprocessor, from the kernel's attributes (registers,
     * static shared memory, its thread limit) and the device's per-multiprocessor limits, as the
     * driver's occupancy calculator computes it.
     */
    public static int cuOccupancyMaxActiveBlocksPerMultiprocessor(
        final long blocksOut, final long function, final int blockSize, final long dynamicSharedBytes, final int flags)
    {
        try
        {
            final RemoteDriver remote = driver();
            final int[] value = new int[1];
            final int[] device = new int[1];
            int status = remote.cuCtxGetDevice(device);
            final int[] limits = new int[8];
            final int[] ids = {
                0 /* MAX_THREADS_PER_BLOCK */, 1 /* SHARED_SIZE_BYTES */, 4 /* NUM_REGS */ };
            for (int i = 0; i < ids.length && status == CUDA_SUCCESS; i++)
            {
                status = remote.cuFuncGetAttribute(value, ids[i], function);
                limits[i] = value[0];
            }
            final int[] deviceIds = {
                10 /* WARP_SIZE */, 39 /* MAX_THREADS_PER_MULTIPROCESSOR */, 106 /* MAX_BLOCKS_PER_MULTIPROCESSOR */,
                81 /* MAX_SHARED_MEMORY_PER_MULTIPROCESSOR */, 82 /* MAX_REGISTERS_PER_MULTIPROCESSOR */ };
            for (int i = 0; i < deviceIds.length && status == CUDA_SUCCESS; i++)
            {
                status = remote.cuDeviceGetAttribute(value, deviceIds[i], device[0]);
                limits[3 + i] = value[0];
            }
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
            if (blockSize <= 0 || dynamicSharedBytes < 0)
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            // RESERVED_SHARED_MEMORY_PER_BLOCK came with CUDA 11: a device that does not report it reserves none.
            final int reservedShared = remote.cuDeviceGetAttribute(value, 111, device[0]) == CUDA_SUCCESS ? value[0] : 0;
            putInt(CUDA_SUCCESS, blocksOut, OccupancyCalculator.blocksPerMultiprocessor(
                blockSize, dynamicSharedBytes, limits[0], limits[1], limits[2],
                limits[3], limits[4], limits[5], limits[6], reservedShared, limits[7]));
            return CUDA_SUCCESS;
        }
        catch (final Throwable ex)
        {
            return failed("cuOccupancyMaxActiveBlocksPerMultiprocessor", ex);
        }
    }

    public static int cuLaunchKernel(
        final long function,
        final long gridX, final long gridY, final long gridZ,
        final long blockX, final long blockY, final long blockZ,
        final long sharedMemBytes, final long stream, final long kernelParams, final long packed, final long packedBytes,
        final long clusterX, final long clusterY, final long clusterZ)
    {
        try
        {
            return driver().cuLaunchKernel(function, (int)gridX, (int)gridY, (int)gridZ,
                (int)blockX, (int)blockY, (int)blockZ, (int)sharedMemBytes, stream, kernelParams, packed, packedBytes,
                (int)clusterX, (int)clusterY, (int)clusterZ);
        }
        catch (final Throwable ex)
        {
            return failed("cuLaunchKernel", ex);
        }
    }

    // ---------------------------------------------------------------- errors

    public static int cuGetErrorName(final long error, final long name)
    {
        try
        {
            final String[] value = new String[1];
            final int status = driver().cuGetErrorName((int)error, value);
            putLong(status, name, status == CUDA_SUCCESS ? nativeString(ERROR_NAMES, (int)error, value[0]) : 0);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuGetErrorName", ex);
        }
    }

    public static int cuGetErrorString(final long error, final long description)
    {
        try
        {
            final String[] value = new String[1];
            final int status = driver().cuGetErrorString((int)error, value);
            putLong(status, description,
                status == CUDA_SUCCESS ? nativeString(ERROR_STRINGS, (int)error, value[0]) : 0);
            return status;
        }
        catch (final Throwable ex)
        {
            return failed("cuGetErrorString", ex);
        }
    }

    // ---------------------------------------------------------------- plumbing

    private static RemoteDriver driver()
    {
        final RemoteDriver current = driver;
        if (current == null || closed)
        {
            throw new IllegalStateException("the CUDA bridge is shut down");
        }
        return current;
    }

    private static int failed(final String call, final Throwable ex)
    {
        if (closed)
        {
            return CUDA_ERROR_DEINITIALIZED;
        }
        System.err.println("bitfusion: " + call + " failed inside the bridge: " + ex);
        return CUDA_ERROR_UNKNOWN;
    }

    private static void putInt(final int status, final long address, final int value)
    {
        if (status == CUDA_SUCCESS && address != 0)
        {
            UnsafeApi.putInt(address, value);
        }
    }

    private static void putLong(final int status, final long address, final long value)
    {
        if (status == CUDA_SUCCESS && address != 0)
        {
            UnsafeApi.putLong(address, value);
        }
    }

    private static String cString(final long address)
    {
        int length = 0;
        while (UnsafeApi.getByte(address + length) != 0)
        {
            length++;
        }
        final byte[] bytes = new byte[length];
        new UnsafeBuffer(address, length).getBytes(0, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Error strings live as long as the process, as the driver's own constant strings do. */
    private static long nativeString(final Map<Integer, Long> cache, final int key, final String text)
    {
        return cache.computeIfAbsent(key, ignore -> nativeString(text));
    }

    /** A NUL-terminated UTF-8 copy in native memory, never freed. */
    private static long nativeString(final String text)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        final long address = UnsafeApi.allocateMemory(bytes.length + 1);
        new UnsafeBuffer(address, bytes.length + 1).putBytes(0, bytes);
        UnsafeApi.putByte(address + bytes.length, (byte)0);
        return address;
    }
}
