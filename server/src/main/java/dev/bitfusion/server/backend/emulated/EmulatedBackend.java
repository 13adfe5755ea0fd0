package dev.bitfusion.server.backend.emulated;

import dev.bitfusion.server.backend.SliceBudget;
import dev.bitfusion.emulator.memory.DeviceAddressSpace;
import dev.bitfusion.server.backend.BackendSession;
import dev.bitfusion.server.backend.GpuBackend;
import dev.bitfusion.server.backend.GpuDescriptor;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * GPUs emulated on the CPU: memory backed by off-heap host memory, kernels run by the PTX interpreter.
 * It is the default device wherever there is no NVIDIA GPU, and the device of every CI test.
 * <p>
 * Thread safety: sessions may be opened from any thread; each session is used by one thread.
 */
public final class EmulatedBackend implements GpuBackend
{
    /** The name cuDeviceGetName reports, so users and tools can tell they are not on real hardware. */
    public static final String DEVICE_NAME = "Bitfusion Emulated GPU";
    public static final int COMPUTE_CAPABILITY_MAJOR = 8;
    public static final int COMPUTE_CAPABILITY_MINOR = 0;
    public static final int MAX_SHARED_MEMORY_PER_BLOCK = 48 * 1024;
    /**
     * The CUDA version the emulated GPU serves, as cuDriverGetVersion reports it: the driver API our libcuda.so.1
     * implements (the agent's RemoteDriver.DRIVER_VERSION), CUDA 13.0, whose fatbins the emulator loads.
     */
    public static final int CUDA_VERSION = 13000;
    /** The driver version it reports: there is no NVIDIA driver under it. */
    public static final String DRIVER_VERSION = "emulated";

    private final List<GpuDescriptor> gpus = new ArrayList<>();
    private final List<DeviceAddressSpace> addressSpaces = new ArrayList<>();

    /**
     * @param gpuCount    how many GPUs to emulate.
     * @param memoryBytes memory of each; backed only as tenants allocate it.
     */
    public EmulatedBackend(final int gpuCount, final long memoryBytes)
    {
        if (gpuCount < 1)
        {
            throw new IllegalArgumentException("at least one GPU is needed, got " + gpuCount);
        }
        if (memoryBytes < 1024 * 1024)
        {
            throw new IllegalArgumentException("GPU memory below 1 MiB: " + memoryBytes + " bytes");
        }
        // One program may have GPUs of several servers and tells their pointers apart by value: each server
        // shifts its addresses at random, as real drivers' addresses differ from process to process.
        final long shiftBytes = DeviceAddressSpace.randomShiftBytes(gpuCount, ThreadLocalRandom.current());
        for (int i = 0; i < gpuCount; i++)
        {
            gpus.add(describe(i, memoryBytes));
            addressSpaces.add(new DeviceAddressSpace(i, shiftBytes));
        }
    }

    public String kind()
    {
        return "emulated";
    }

    public List<GpuDescriptor> gpus()
    {
        return gpus;
    }

    public int cudaVersion()
    {
        return CUDA_VERSION;
    }

    public String driverVersion()
    {
        return DRIVER_VERSION;
    }

        public BackendSession openSession(final int gpuIndex, final SliceBudget budget)
    {
        return new EmulatedSession(addressSpaces.get(gpuIndex), budget);
    }

    public void close()
    {
    }

    private static GpuDescriptor describe(final int index, final long memoryBytes)
    {
        final int multiprocessors = Math.max(1, Runtime.getRuntime().availableProcessors());
        final int[][] attributes = {
            { 1, 1024 }, { 2, 1024 }, { 3, 1024 }, { 4, 64 },
            { 5, Integer.MAX_VALUE }, { 6, 65535 }, { 7, 65535 },
            { 8, MAX_SHARED_MEMORY_PER_BLOCK }, { 9, 65536 }, { 10, 32 }, { 11, Integer.MAX_VALUE },
            { 12, 65536 }, { 13, 1_410_000 }, { 14, 512 }, { 15, 1 }, { 16, multiprocessors },
            { 17, 0 }, { 18, 0 }, { 19, 0 }, { 20, 0 }, { 30, 512 }, { 31, 1 }, { 32, 0 },
            { 33, 0 }, { 34, index }, { 35, 0 }, { 36, 1_215_000 }, { 37, 5120 }, { 38, 40 * 1024 * 1024 },
            { 39, 2048 }, { 40, 2 }, { 41, 1 }, { 50, 0 }, { 51, 32 },
            { 75, COMPUTE_CAPABILITY_MAJOR }, { 76, COMPUTE_CAPABILITY_MINOR },
            { 78, 0 }, { 79, 1 }, { 80, 1 }, { 81, 164 * 1024 }, { 82, 65536 }, { 83, 0 }, { 84, 0 },
            { 85, index }, { 86, 0 }, { 87, 2 }, { 88, 0 }, { 89, 0 }, { 90, 1 }, { 91, 0 },
            { 92, 0 }, { 93, 0 }, { 94, 0 }, { 95, 0 }, { 96, 0 }, { 97, MAX_SHARED_MEMORY_PER_BLOCK },
            { 98, 0 }, { 99, 0 }, { 100, 0 }, { 101, 0 }, { 102, 0 }, { 106, 32 }, { 111, 0 },
            { 115, 0 }, { 120, 0 }, { 133, 0 },
        };
        final int[] ids = new int[attributes.length];
        final int[] values = new int[attributes.length];
        for (int i = 0; i < attributes.length; i++)
        {
            ids[i] = attributes[i][0];
            values[i] = attributes[i][1];
        }

        final UUID uuid = UUID.nameUUIDFromBytes(("bitfusion-emulated-gpu-" + index).getBytes(StandardCharsets.UTF_8));
        final byte[] uuidBytes = ByteBuffer.allocate(16)
            .putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits()).array();

        return new GpuDescriptor(
            index, DEVICE_NAME, memoryBytes, COMPUTE_CAPABILITY_MAJOR, COMPUTE_CAPABILITY_MINOR, uuidBytes, ids, values);
    }
}
