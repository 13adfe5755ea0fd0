package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.DeviceInfo;
import org.agrona.UnsafeApi;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * The program's GPUs as their slices present them: count, names, memory, attributes, identity, and the
 * peer questions. GPUs of a program may sit on different servers and never reach each other's memory, so
 * peer access is reported absent.
 * <p>
 * Thread safety: thread safe.
 */
public final class DeviceCalls
{
    /** CU_DEVICE_ATTRIBUTE_MAX of cuda.h 13.0. */
    private static final int DEVICE_ATTRIBUTE_MAX = 148;
    private static final int CU_DEVICE_ATTRIBUTE_PCI_BUS_ID = 33;
    private static final int CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID = 34;
    private static final int CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID = 50;
    private static final int UUID_BYTES = 16;
    private static final int LUID_BYTES = 8;

    private final Sessions sessions;

    DeviceCalls(final Sessions sessions)
    {
        this.sessions = sessions;
    }

    public int cuDeviceGetCount(final long count)
    {
        if (count == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (!sessions.isInitialised())
        {
            return CUDA_ERROR_NOT_INITIALIZED;
        }
        NativeMemory.putInt(count, sessions.count());
        return CUDA_SUCCESS;
    }

    public int cuDeviceGet(final long device, final int ordinal)
    {
        if (device == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int status = sessions.check(ordinal);
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putInt(device, ordinal);
        }
        return status;
    }

    public int cuDeviceGetName(final long name, final int len, final int dev)
    {
        if (name == 0 || len <= 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int status = sessions.check(dev);
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putCString(name, len, device(dev).name());
        }
        return status;
    }

    /**
     * The slice's memory, not the card's.
     */
    public int cuDeviceTotalMem(final long bytes, final int dev)
    {
        if (bytes == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int status = sessions.check(dev);
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putLong(bytes, device(dev).totalBytes());
        }
        return status;
    }

    /**
     * A valid attribute the server does not report is a feature the slice does not offer: 0, as the driver
     * answers for absent features (runtimes query them all for cudaGetDeviceProperties).
     */
    public int cuDeviceGetAttribute(final long pi, final int attrib, final int dev)
    {
        if (pi == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int status = sessions.check(dev);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        final int found = attribute(dev, attrib);
        if (found == Integer.MIN_VALUE && (attrib <= 0 || attrib >= DEVICE_ATTRIBUTE_MAX))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        NativeMemory.putInt(pi, found == Integer.MIN_VALUE ? 0 : found);
        return CUDA_SUCCESS;
    }

    public int cuDeviceGetUuid(final long uuid, final int dev)
    {
        if (uuid == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int status = sessions.check(dev);
        if (status == CUDA_SUCCESS)
        {
            UnsafeApi.copyMemory(device(dev).uuid(), UnsafeApi.arrayBaseOffset(byte[].class), null, uuid, UUID_BYTES);
        }
        return status;
    }

    /**
     * LUIDs are a Windows notion; Linux drivers answer with zeros too.
     */
    public int cuDeviceGetLuid(final long luid, final long deviceNodeMask, final int dev)
    {
        if (luid == 0 || deviceNodeMask == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int status = sessions.check(dev);
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.zero(luid, LUID_BYTES);
            NativeMemory.putInt(deviceNodeMask, 0);
        }
        return status;
    }

    public int cuDeviceComputeCapability(final long major, final long minor, final int dev)
    {
        if (major == 0 || minor == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int status = sessions.check(dev);
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putInt(major, device(dev).computeCapabilityMajor());
            NativeMemory.putInt(minor, device(dev).computeCapabilityMinor());
        }
        return status;
    }

    /**
     * The bus id the slice reports, in the driver's format: domain, bus, device, function 0.
     */
    public int cuDeviceGetPCIBusId(final long pciBusId, final int len, final int dev)
    {
        if (pciBusId == 0 || len <= 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int status = sessions.check(dev);
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putCString(pciBusId, len, pciBusId(dev));
        }
        return status;
    }

    public int cuDeviceCanAccessPeer(final long canAccessPeer, final int dev, final int peerDev)
    {
        if (canAccessPeer == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int status = checkPair(dev, peerDev);
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putInt(canAccessPeer, 0);
        }
        return status;
    }

    /**
     * Performance rank, access, native atomics, array access: none between GPUs that may be remote.
     */
    public int cuDeviceGetP2PAttribute(final long value, final int attrib, final int srcDevice, final int dstDevice)
    {
        if (value == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int status = checkPair(srcDevice, dstDevice);
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putInt(value, 0);
        }
        return status;
    }

    /**
     * @return the bus id the slice reports, in the driver's format: domain, bus, device, function 0.
     */
    String pciBusId(final int dev)
    {
        return String.format("%08X:%02X:%02X.0", pciDomain(dev), pciBus(dev), pciDevice(dev));
    }

    int pciDomain(final int dev)
    {
        return Math.max(0, attribute(dev, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID));
    }

    int pciBus(final int dev)
    {
        return Math.max(0, attribute(dev, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID));
    }

    int pciDevice(final int dev)
    {
        return Math.max(0, attribute(dev, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID));
    }

    /**
     * @return the device's attribute as its session reported it, or Integer.MIN_VALUE when it did not.
     */
    int attribute(final int dev, final int attribute)
    {
        return device(dev).attribute(attribute);
    }

    private int checkPair(final int dev, final int peerDev)
    {
        final int status = sessions.check(dev);
        return status == CUDA_SUCCESS ? sessions.check(peerDev) : status;
    }

    DeviceInfo device(final int dev)
    {
        return sessions.of(dev).device();
    }
}
