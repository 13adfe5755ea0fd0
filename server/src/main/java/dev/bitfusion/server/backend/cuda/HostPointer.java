package dev.bitfusion.server.backend.cuda;

import jcuda.Pointer;

/**
 * A JCuda Pointer over a raw host address, and the address of one the driver filled (cuMemAllocHost).
 * <p>
 * Thread safety: immutable once the driver has written it.
 */
final class HostPointer extends Pointer
{
    /** An empty pointer for the driver to fill. */
    HostPointer()
    {
    }

    HostPointer(final long address)
    {
        super(address);
    }

    long address()
    {
        return getNativePointer() + getByteOffset();
    }
}
