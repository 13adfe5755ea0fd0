package dev.bitfusion.server.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A CUdeviceptr made from, and read back as, a raw device address: the wire carries addresses as longs.
 * <p>
 * Thread safety: immutable once the driver has written it.
 */
final class DevicePointer extends CUdeviceptr
{
    private static final CUdeviceptr NULL = new CUdeviceptr();

    /** An empty pointer for the driver to fill (cuMemAlloc, cuModuleGetGlobal). */
    DevicePointer()
    {
    }

    private DevicePointer(final long address)
    {
        super(NULL, address);
    }

    static DevicePointer at(final long address)
    {
        return new DevicePointer(address);
    }

    long address()
    {
        return getNativePointer() + getByteOffset();
    }
}
