package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.CallSlot;
import dev.bitfusion.agent.wire.DeviceInfo;
import dev.bitfusion.agent.wire.ServerSession;

import java.util.function.IntUnaryOperator;

import static dev.bitfusion.cuda.CuResult.CUDA_SUCCESS;

/**
 * What NVML says of the program's GPUs, for the NVML stand-in (libnvidia-ml.so.1, generated from
 * native-bridge/src/main/nvml/nvml-calls.txt): monitoring tools and GPU stacks (TornadoVM, RAPIDS, libtorch,
 * JavaCPP's NVML preset) see the same GPUs the driver shows, each as its slice: the device count is the
 * program's GPUs, the name, UUID, PCI id and compute capability are the remote GPU's, the memory is the slice
 * with free and used as the server counts them, and the running compute processes are this one. Handles are
 * the device ordinal plus one (never NULL). Returns NVML codes, not CUresults.
 * <p>
 * Thread safety: thread safe.
 */
public final class NvmlCalls
{
    static final int NVML_SUCCESS = 0;
    static final int NVML_ERROR_UNINITIALIZED = 1;
    static final int NVML_ERROR_INVALID_ARGUMENT = 2;
    static final int NVML_ERROR_NOT_FOUND = 6;
    static final int NVML_ERROR_INSUFFICIENT_SIZE = 7;
    static final int NVML_ERROR_DRIVER_NOT_LOADED = 9;
    static final int NVML_ERROR_GPU_IS_LOST = 15;
    static final int NVML_COMPUTEMODE_DEFAULT = 0;
    /** NVML_DEVICE_UUID_V2_BUFFER_SIZE: "GPU-" and 36 characters, with the NUL. */
    static final int UUID_BUFFER_BYTES = 80;
    /** nvmlMemory_v2_t's version field as nvml.h builds it: its size, and 2 in the top byte. */
    static final int MEMORY_V2_VERSION = 40 | (2 << 24);
    /** nvmlProcessInfo_t (and _v2_t): pid, usedGpuMemory, gpuInstanceId, computeInstanceId. */
    static final int PROCESS_INFO_BYTES = 24;
    /** nvmlPciInfo_t: busIdLegacy[16], domain, bus, device, pciDeviceId, pciSubSystemId, busId[32]. */
    static final int PCI_INFO_BYTES = 68;
    /** NVML's value for what a device does not report (NVML_VALUE_NOT_AVAILABLE). */
    static final int NOT_AVAILABLE = 0xffff_ffff;

    private final Sessions sessions;
    private final DeviceCalls devices;
    private final IntUnaryOperator cuInit;

    NvmlCalls(final Sessions sessions, final DeviceCalls devices, final IntUnaryOperator cuInit)
    {
        this.sessions = sessions;
        this.devices = devices;
        this.cuInit = cuInit;
    }

    /**
     * nvmlInit: opens the sessions, as cuInit does (a no-op once they are open).
     */
    public int init()
    {
        return cuInit.applyAsInt(0) == CUDA_SUCCESS ? NVML_SUCCESS : NVML_ERROR_DRIVER_NOT_LOADED;
    }

    public int initWithFlags(final int flags)
    {
        return init();
    }

    /**
     * nvmlShutdown: the sessions are the program's, so they stay open for its CUDA calls.
     */
    public int shutdown()
    {
        return sessions.isInitialised() ? NVML_SUCCESS : NVML_ERROR_UNINITIALIZED;
    }

    public int deviceGetCount(final long deviceCount)
    {
        if (deviceCount == 0)
        {
            return NVML_ERROR_INVALID_ARGUMENT;
        }
        if (!sessions.isInitialised())
        {
            return NVML_ERROR_UNINITIALIZED;
        }
        NativeMemory.putInt(deviceCount, sessions.count());
        return NVML_SUCCESS;
    }

    public int deviceGetHandleByIndex(final int index, final long device)
    {
        if (device == 0)
        {
            return NVML_ERROR_INVALID_ARGUMENT;
        }
        if (!sessions.isInitialised())
        {
            return NVML_ERROR_UNINITIALIZED;
        }
        if (index < 0 || index >= sessions.count())
        {
            return NVML_ERROR_INVALID_ARGUMENT;
        }
        NativeMemory.putLong(device, index + 1L);
        return NVML_SUCCESS;
    }

    public int deviceGetHandleByUUID(final long uuid, final long device)
    {
        if (uuid == 0 || device == 0)
        {
            return NVML_ERROR_INVALID_ARGUMENT;
        }
        if (!sessions.isInitialised())
        {
            return NVML_ERROR_UNINITIALIZED;
        }
        final String wanted = NativeMemory.cString(uuid);
        for (int index = 0; index < sessions.count(); index++)
        {
            if (uuidText(devices.device(index)).equalsIgnoreCase(wanted))
            {
                NativeMemory.putLong(device, index + 1L);
                return NVML_SUCCESS;
            }
        }
        return NVML_ERROR_NOT_FOUND;
    }

    public int deviceGetHandleByPciBusId(final long pciBusId, final long device)
    {
        if (pciBusId == 0 || device == 0)
        {
            return NVML_ERROR_INVALID_ARGUMENT;
        }
        if (!sessions.isInitialised())
        {
            return NVML_ERROR_UNINITIALIZED;
        }
        final String wanted = normalisedBusId(NativeMemory.cString(pciBusId));
        for (int index = 0; index < sessions.count(); index++)
        {
            if (normalisedBusId(devices.pciBusId(index)).equals(wanted))
            {
                NativeMemory.putLong(device, index + 1L);
                return NVML_SUCCESS;
            }
        }
        return NVML_ERROR_NOT_FOUND;
    }

    public int deviceGetIndex(final long device, final long index)
    {
        final int dev = ordinal(device);
        if (dev < 0 || index == 0)
        {
            return dev < -1 ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_INVALID_ARGUMENT;
        }
        NativeMemory.putInt(index, dev);
        return NVML_SUCCESS;
    }

    public int deviceGetName(final long device, final long name, final int length)
    {
        final int dev = ordinal(device);
        if (dev < 0 || name == 0)
        {
            return dev < -1 ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_INVALID_ARGUMENT;
        }
        return putString(name, length, devices.device(dev).name());
    }

    public int deviceGetUUID(final long device, final long uuid, final int length)
    {
        final int dev = ordinal(device);
        if (dev < 0 || uuid == 0)
        {
            return dev < -1 ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_INVALID_ARGUMENT;
        }
        return putString(uuid, Math.min(length, UUID_BUFFER_BYTES), uuidText(devices.device(dev)));
    }

    public int deviceGetPciInfo(final long device, final long pci)
    {
        final int dev = ordinal(device);
        if (dev < 0 || pci == 0)
        {
            return dev < -1 ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_INVALID_ARGUMENT;
        }
        NativeMemory.zero(pci, PCI_INFO_BYTES);
        final String busId = devices.pciBusId(dev);
        NativeMemory.putCString(pci, 16, String.format("%04X:%02X:%02X.0",
            devices.pciDomain(dev), devices.pciBus(dev), devices.pciDevice(dev)));
        NativeMemory.putInt(pci + 16, devices.pciDomain(dev));
        NativeMemory.putInt(pci + 20, devices.pciBus(dev));
        NativeMemory.putInt(pci + 24, devices.pciDevice(dev));
        NativeMemory.putCString(pci + 36, 32, busId);
        return NVML_SUCCESS;
    }

    public int deviceGetCudaComputeCapability(final long device, final long major, final long minor)
    {
        final int dev = ordinal(device);
        if (dev < 0 || major == 0 || minor == 0)
        {
            return dev < -1 ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_INVALID_ARGUMENT;
        }
        NativeMemory.putInt(major, devices.device(dev).computeCapabilityMajor());
        NativeMemory.putInt(minor, devices.device(dev).computeCapabilityMinor());
        return NVML_SUCCESS;
    }

    /**
     * Every tenant may use the GPU, as in NVML's default mode.
     */
    public int deviceGetComputeMode(final long device, final long mode)
    {
        final int dev = ordinal(device);
        if (dev < 0 || mode == 0)
        {
            return dev < -1 ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_INVALID_ARGUMENT;
        }
        NativeMemory.putInt(mode, NVML_COMPUTEMODE_DEFAULT);
        return NVML_SUCCESS;
    }

    /**
     * nvmlMemory_t: total, free, used of the slice, as the server counts them.
     */
    public int deviceGetMemoryInfo(final long device, final long memory)
    {
        return memoryInfo(device, memory, false);
    }

    /**
     * nvmlMemory_v2_t: version, total, reserved (none), free, used.
     */
    public int deviceGetMemoryInfoV2(final long device, final long memory)
    {
        return memoryInfo(device, memory, true);
    }

    /**
     * This process, with the memory its slice holds: the server does not tell one tenant of the others.
     *
     * @param infoCount in: how many entries {@code infos} has room for; out: how many there are.
     */
    public int deviceGetComputeRunningProcesses(final long device, final long infoCount, final long infos)
    {
        final int dev = ordinal(device);
        if (dev < 0 || infoCount == 0)
        {
            return dev < -1 ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_INVALID_ARGUMENT;
        }
        final int room = NativeMemory.getInt(infoCount);
        NativeMemory.putInt(infoCount, 1);
        if (room < 1 || infos == 0)
        {
            return NVML_ERROR_INSUFFICIENT_SIZE;
        }
        final ServerSession session = sessions.of(dev);
        final CallSlot slot = session.slot();
        final int status = session.await(slot, session.proxy().memGetInfo(slot));
        if (status != CUDA_SUCCESS)
        {
            return NVML_ERROR_GPU_IS_LOST;
        }
        NativeMemory.zero(infos, PROCESS_INFO_BYTES);
        NativeMemory.putInt(infos, (int)ProcessHandle.current().pid());
        NativeMemory.putLong(infos + 8, slot.value2() - slot.value1());
        NativeMemory.putInt(infos + 16, NOT_AVAILABLE);
        NativeMemory.putInt(infos + 20, NOT_AVAILABLE);
        return NVML_SUCCESS;
    }

    private int memoryInfo(final long device, final long memory, final boolean v2)
    {
        final int dev = ordinal(device);
        if (dev < 0 || memory == 0)
        {
            return dev < -1 ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_INVALID_ARGUMENT;
        }
        final ServerSession session = sessions.of(dev);
        final CallSlot slot = session.slot();
        final int status = session.await(slot, session.proxy().memGetInfo(slot));
        if (status != CUDA_SUCCESS)
        {
            return NVML_ERROR_GPU_IS_LOST;
        }
        final long free = slot.value1();
        final long total = slot.value2();
        if (v2)
        {
            NativeMemory.putInt(memory, MEMORY_V2_VERSION);
            NativeMemory.putInt(memory + 4, 0);
            NativeMemory.putLong(memory + 8, total);
            NativeMemory.putLong(memory + 16, 0);
            NativeMemory.putLong(memory + 24, free);
            NativeMemory.putLong(memory + 32, total - free);
        }
        else
        {
            NativeMemory.putLong(memory, total);
            NativeMemory.putLong(memory + 8, free);
            NativeMemory.putLong(memory + 16, total - free);
        }
        return NVML_SUCCESS;
    }

    /**
     * @return the ordinal a handle names; -1 for a value that is no handle here, -2 before nvmlInit.
     */
    private int ordinal(final long device)
    {
        if (!sessions.isInitialised())
        {
            return -2;
        }
        return device >= 1 && device <= sessions.count() ? (int)device - 1 : -1;
    }

    private static int putString(final long address, final int length, final String text)
    {
        if (length < text.length() + 1)
        {
            return NVML_ERROR_INSUFFICIENT_SIZE;
        }
        NativeMemory.putCString(address, length, text);
        return NVML_SUCCESS;
    }

    /** NVML's form of a GPU's UUID: GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx. */
    static String uuidText(final DeviceInfo device)
    {
        final StringBuilder text = new StringBuilder("GPU-");
        final byte[] uuid = device.uuid();
        for (int i = 0; i < uuid.length; i++)
        {
            if (i == 4 || i == 6 || i == 8 || i == 10)
            {
                text.append('-');
            }
            text.append(String.format("%02x", uuid[i] & 0xff));
        }
        return text.toString();
    }

    /** Bus ids compare whatever the width of the domain: 0000:01:00.0 and 00000000:01:00.0 are one. */
    private static String normalisedBusId(final String busId)
    {
        final int colon = busId.indexOf(':');
        if (colon < 0)
        {
            return busId.toUpperCase();
        }
        try
        {
            return Long.parseLong(busId.substring(0, colon), 16) + busId.substring(colon).toUpperCase();
        }
        catch (final NumberFormatException ex)
        {
            return busId.toUpperCase();
        }
    }
}
