package dev.bitfusion.server.backend.cuda;

import jcuda.NativePointerObject;

import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_NOT_SUPPORTED;

/**
 * Driver calls made through a small JNI library of our own (driver_extras.c, packaged in this jar) that calls
 * the driver JCuda loaded: kernel launches, whose parameters it takes as plain addresses where JCuda walks an
 * array of Java objects on every launch, and what JCuda 12.6 lacks: cuLaunchKernelEx with a thread block
 * cluster shape, the tensor map encoders and the cluster occupancy queries, and the standard output
 * redirection device printf capture needs. The library is loaded on first use.
 * <p>
 * Not JavaCPP's CUDA presets, though they bind these calls: their JNI library links the CUDA runtime
 * ({@code libcudart.so.13}), which a GPU server with only the NVIDIA driver lacks (this library needs only the
 * driver JCuda loaded), and their calls take handles and parameter arrays as {@code Pointer} objects, an
 * allocation on every launch where this library takes plain addresses. The standard output redirection would
 * stay here either way.
 * <p>
 * Thread safety: callable from any session thread; loading happens once.
 */
final class DriverExtras
{
    private static final String LIBRARY = "/dev/bitfusion/server/backend/cuda/linux-x86_64/libbitfusion-driver-extras.so";
    private static final MethodHandle NATIVE_POINTER = nativePointerAccessor();
    private static volatile Boolean available;

    private DriverExtras()
    {
    }

    /**
     * A kernel launch on the calling thread's current context: cuLaunchKernel, or cuLaunchKernelEx with
     * CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION when a cluster shape is given.
     *
     * @param kernelParams address of a native void* array, a pointer per parameter (0 for none).
     * @param clusterX     0, 0, 0 for a launch without a cluster shape.
     * @return the driver's CUresult, or CUDA_ERROR_NOT_SUPPORTED when the library or the driver entry point
     * is missing (said once on stderr).
     */
    static int launch(
        final NativePointerObject function, final int gridX, final int gridY, final int gridZ,
        final int blockX, final int blockY, final int blockZ, final int sharedBytes,
        final NativePointerObject stream, final long kernelParams,
        final int clusterX, final int clusterY, final int clusterZ)
    {
        if (!isAvailable())
        {
            return CUDA_ERROR_NOT_SUPPORTED;
        }
        return launch(address(function), gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, address(stream),
            kernelParams, clusterX, clusterY, clusterZ);
    }

    /**
     * cuTensorMapEncodeTiled on the calling thread's current context, with the driver's own arguments; the
     * arrays hold at least {@code rank} (strides {@code rank - 1}) elements and at most five.
     *
     * @param tensorMap address of the 128 bytes that receive the map.
     */
    static int encodeTensorMapTiled(
        final long tensorMap, final int dataType, final int rank, final long globalAddress, final long[] globalDim,
        final long[] globalStrides, final int[] boxDim, final int[] elementStrides,
        final int interleave, final int swizzle, final int l2Promotion, final int oobFill)
    {
        return isAvailable() ? encodeTiledNative(tensorMap, dataType, rank, globalAddress, globalDim, globalStrides,
            boxDim, elementStrides, interleave, swizzle, l2Promotion, oobFill) : CUDA_ERROR_NOT_SUPPORTED;
    }

    private static native int encodeTiledNative(
        long tensorMap, int dataType, int rank, long globalAddress, long[] globalDim, long[] globalStrides,
        int[] boxDim, int[] elementStrides, int interleave, int swizzle, int l2Promotion, int oobFill);

    /**
     * cuTensorMapEncodeIm2col on the calling thread's current context, with the driver's own arguments.
     *
     * @param tensorMap address of the 128 bytes that receive the map.
     */
    static int encodeTensorMapIm2col(
        final long tensorMap, final int dataType, final int rank, final long globalAddress, final long[] globalDim,
        final long[] globalStrides, final int[] lowerCorner, final int[] upperCorner, final int channelsPerPixel,
        final int pixelsPerColumn, final int[] elementStrides,
        final int interleave, final int swizzle, final int l2Promotion, final int oobFill)
    {
        return isAvailable() ? encodeIm2colNative(tensorMap, dataType, rank, globalAddress, globalDim, globalStrides,
            lowerCorner, upperCorner, channelsPerPixel, pixelsPerColumn, elementStrides, interleave, swizzle,
            l2Promotion, oobFill) : CUDA_ERROR_NOT_SUPPORTED;
    }

    private static native int encodeIm2colNative(
        long tensorMap, int dataType, int rank, long globalAddress, long[] globalDim, long[] globalStrides,
        int[] lowerCorner, int[] upperCorner, int channelsPerPixel, int pixelsPerColumn, int[] elementStrides,
        int interleave, int swizzle, int l2Promotion, int oobFill);

    /**
     * cuTensorMapReplaceAddress.
     *
     * @param tensorMap address of a 128-byte map, changed in place.
     */
    static int replaceTensorMapAddress(final long tensorMap, final long globalAddress)
    {
        return isAvailable() ? replaceAddressNative(tensorMap, globalAddress) : CUDA_ERROR_NOT_SUPPORTED;
    }

    private static native int replaceAddressNative(long tensorMap, long globalAddress);

    /**
     * cuOccupancyMaxActiveClusters (query 0) or cuOccupancyMaxPotentialClusterSize (query 1), on the calling
     * thread's current context.
     *
     * @param value receives the answer.
     */
    static int clusterOccupancy(
        final int[] value, final int query, final NativePointerObject function, final int[] grid, final int[] block,
        final int sharedBytes, final int[] cluster)
    {
        return isAvailable() ? clusterOccupancyNative(value, query, address(function), grid[0], grid[1], grid[2],
            block[0], block[1], block[2], sharedBytes, cluster[0], cluster[1], cluster[2]) : CUDA_ERROR_NOT_SUPPORTED;
    }

    private static native int clusterOccupancyNative(
        int[] value, int query, long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
        int sharedBytes, int clusterX, int clusterY, int clusterZ);

    /**
     * Makes standard output a pipe (see driver_extras.c).
     *
     * @param fds receives the pipe's read end and a descriptor for what standard output was.
     * @return whether it was done.
     */
    static boolean redirectStdout(final int[] fds)
    {
        return isAvailable() && redirectStdoutNative(fds) == 0;
    }

    private static native int redirectStdoutNative(int[] fds);

    /**
     * @param fd a descriptor {@link #redirectStdout} returned.
     * @return a FileDescriptor for it, for Java's streams; null when one cannot be made.
     */
    static FileDescriptor descriptor(final int fd)
    {
        return isAvailable() ? descriptorNative(fd) : null;
    }

    private static native FileDescriptor descriptorNative(int fd);

    private static native int launch(
        long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes,
        long stream, long kernelParams, int clusterX, int clusterY, int clusterZ);

    static boolean isAvailable()
    {
        Boolean loaded = available;
        if (loaded == null)
        {
            synchronized (DriverExtras.class)
            {
                loaded = available;
                if (loaded == null)
                {
                    loaded = load();
                    available = loaded;
                }
            }
        }
        return loaded;
    }

    private static boolean load()
    {
        try (InputStream library = DriverExtras.class.getResourceAsStream(LIBRARY))
        {
            if (library == null || NATIVE_POINTER == null)
            {
                throw new IOException(library == null ? LIBRARY + " is not in the class path" :
                    "JCuda's native pointers cannot be read");
            }
            final Path directory = Files.createTempDirectory("bitfusion-driver-extras");
            final Path copy = directory.resolve("libbitfusion-driver-extras.so");
            Files.copy(library, copy, StandardCopyOption.REPLACE_EXISTING);
            System.load(copy.toString());
            copy.toFile().deleteOnExit();
            directory.toFile().deleteOnExit();
            return true;
        }
        catch (final IOException | UnsatisfiedLinkError ex)
        {
            System.err.println("bitfusion server: cluster launches and tensor maps are not supported here " +
                "(CUDA_ERROR_NOT_SUPPORTED), and launches take JCuda's slower path: " + ex.getMessage());
            return false;
        }
    }

    private static long address(final NativePointerObject object)
    {
        if (object == null)
        {
            return 0;
        }
        try
        {
            return (long)NATIVE_POINTER.invokeExact(object);
        }
        catch (final Throwable ex)
        {
            throw new IllegalStateException("cannot read a JCuda native pointer", ex);
        }
    }

    /** JCuda keeps the driver's handle in a protected field reached through getNativePointer(). */
    private static MethodHandle nativePointerAccessor()
    {
        try
        {
            final var method = NativePointerObject.class.getDeclaredMethod("getNativePointer");
            method.setAccessible(true);
            return MethodHandles.lookup().unreflect(method).asType(MethodType.methodType(long.class, NativePointerObject.class));
        }
        catch (final ReflectiveOperationException | RuntimeException ex)
        {
            return null;
        }
    }
}
