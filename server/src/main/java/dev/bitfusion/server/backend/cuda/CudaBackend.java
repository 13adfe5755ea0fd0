package dev.bitfusion.server.backend.cuda;

import dev.bitfusion.server.backend.SliceBudget;
import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.GpuBackend;
import dev.bitfusion.server.backend.GpuDescriptor;
import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;
import jcuda.driver.CUuuid;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.bitfusion.cuda.CuResult.CUDA_SUCCESS;
import static jcuda.driver.JCudaDriver.*;

/**
 * The machine's NVIDIA GPUs through the CUDA driver API, by JCuda 12.6. Each tenant gets its own context on
 * its GPU ({@link CudaSession}); the server's slices and pointer checks sit on top of the driver.
 * <p>
 * Thread safety: sessions may be opened from any thread; each session is used by one thread at a time.
 */
public final class CudaBackend implements GpuBackend
{
    /** CUdevice_attribute ids asked of the driver; those it refuses are left out of the descriptor. */
    static final int FIRST_ATTRIBUTE = 1;
    static final int LAST_ATTRIBUTE = 134;
    private static final int COMPUTE_CAPABILITY_MAJOR = 75;
    private static final int COMPUTE_CAPABILITY_MINOR = 76;
    /** What nvidia-smi shows as the driver version; the CUDA driver API has no call for it. */
    private static final Path NVIDIA_DRIVER_VERSION_FILE = Path.of("/sys/module/nvidia/version");

    private final List<CUdevice> devices;
    private final List<GpuDescriptor> gpus;
    private final int cudaVersion;
    private final String driverVersion;

    private CudaBackend(
        final List<CUdevice> devices, final List<GpuDescriptor> gpus, final int cudaVersion, final String driverVersion)
    {
        this.devices = devices;
        this.gpus = gpus;
        this.cudaVersion = cudaVersion;
        this.driverVersion = driverVersion;
    }

    /**
     * Load JCuda and the driver, and describe every GPU.
     *
     * @return the backend.
     * @throws CudaUnavailableException when the driver cannot be loaded or initialised, or there is no GPU.
     */
    public static CudaBackend open()
    {
        final int status;
        try
        {
            JCudaDriver.setExceptionsEnabled(false);
            status = cuInit(0);
        }
        catch (final LinkageError ex)
        {
            throw new CudaUnavailableException(describe(ex), ex);
        }
        if (status != CUDA_SUCCESS)
        {
            throw new CudaUnavailableException("cuInit failed: " + CUresult.stringFor(status));
        }
        final int[] count = new int[1];
        final int countStatus = cuDeviceGetCount(count);
        if (countStatus != CUDA_SUCCESS || count[0] < 1)
        {
            throw new CudaUnavailableException(countStatus != CUDA_SUCCESS ?
                "cuDeviceGetCount failed: " + CUresult.stringFor(countStatus) : "the driver reports no GPU");
        }
        final List<CUdevice> devices = new ArrayList<>();
        final List<GpuDescriptor> gpus = new ArrayList<>();
        for (int i = 0; i < count[0]; i++)
        {
            final CUdevice device = new CUdevice();
            final int deviceStatus = cuDeviceGet(device, i);
            if (deviceStatus != CUDA_SUCCESS)
            {
                throw new CudaUnavailableException("cuDeviceGet(" + i + ") failed: " + CUresult.stringFor(deviceStatus));
            }
            devices.add(device);
            gpus.add(describe(i, device));
        }
        final int[] version = new int[1];
        return new CudaBackend(devices, gpus, cuDriverGetVersion(version) == CUDA_SUCCESS ? version[0] : -1,
            nvidiaDriverVersion());
    }

    public String kind()
    {
        return "cuda";
    }

    public List<GpuDescriptor> gpus()
    {
        return gpus;
    }

    public int cudaVersion()
    {
        return cudaVersion;
    }

    public String driverVersion()
    {
        return driverVersion;
    }

        public BackendSession openSession(final int gpuIndex, final SliceBudget budget)
    {
        return new CudaSession(devices.get(gpuIndex), budget);
    }

    public void close()
    {
    }

    private static GpuDescriptor describe(final int index, final CUdevice device)
    {
        final byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        int length = 0;
        while (length < name.length && name[length] != 0)
        {
            length++;
        }
        final long[] total = new long[1];
        cuDeviceTotalMem(total, device);
        final CUuuid uuid = new CUuuid();
        final byte[] uuidBytes = cuDeviceGetUuid(uuid, device) == CUDA_SUCCESS && uuid.bytes != null ?
            Arrays.copyOf(uuid.bytes, 16) : new byte[16];

        final int[] ids = new int[LAST_ATTRIBUTE - FIRST_ATTRIBUTE + 1];
        final int[] values = new int[ids.length];
        final int[] value = new int[1];
        int known = 0;
        int major = 0;
        int minor = 0;
        for (int attribute = FIRST_ATTRIBUTE; attribute <= LAST_ATTRIBUTE; attribute++)
        {
            if (cuDeviceGetAttribute(value, attribute, device) == CUDA_SUCCESS)
            {
                ids[known] = attribute;
                values[known] = value[0];
                known++;
                major = attribute == COMPUTE_CAPABILITY_MAJOR ? value[0] : major;
                minor = attribute == COMPUTE_CAPABILITY_MINOR ? value[0] : minor;
            }
        }
        return new GpuDescriptor(index, new String(name, 0, length, StandardCharsets.UTF_8), total[0], major, minor,
            uuidBytes, Arrays.copyOf(ids, known), Arrays.copyOf(values, known));
    }

    private static String nvidiaDriverVersion()
    {
        try
        {
            return Files.readString(NVIDIA_DRIVER_VERSION_FILE, StandardCharsets.US_ASCII).strip();
        }
        catch (final IOException ex)
        {
            return ""; // A driver without its kernel module's version file (a container without /sys/module).
        }
    }

    /** JCuda's message holds a stack trace per load attempt; say the one thing that matters. */
    private static String describe(final LinkageError ex)
    {
        final String message = String.valueOf(ex.getMessage());
        if (message.contains("libcuda.so.1: cannot open shared object file"))
        {
            return "libcuda.so.1 (the NVIDIA driver) is not installed";
        }
        final int newline = message.indexOf('\n');
        return "cannot load JCuda's driver library: " + (newline < 0 ? message : message.substring(0, newline));
    }
}
