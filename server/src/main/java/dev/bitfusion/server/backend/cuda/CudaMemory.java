package dev.bitfusion.server.backend.cuda;

import dev.bitfusion.server.backend.BackendSession.DeviceDataSink;
import dev.bitfusion.server.backend.CallResult;
import dev.bitfusion.server.backend.TenantMemory;
import jcuda.driver.CUevent;
import jcuda.driver.CUstream;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static dev.bitfusion.cuda.CuResult.*;
import static jcuda.driver.JCudaDriver.*;

/**
 * A tenant's device memory on a real GPU: allocations within its slice, and copies and memsets, each checked
 * against the tenant's own ranges ({@link TenantMemory}) before the driver sees the pointer.
 * <p>
 * Copies go through a ring of pinned staging slots: host-to-device data is copied into a slot and sent with
 * an asynchronous copy, so the next chunk arrives from the network while the previous one crosses PCIe;
 * device-to-host copies keep several slots in flight and hand each to the sink as its event completes.
 * <p>
 * Thread safety: used by the session's executor only.
 */
final class CudaMemory
{
    static final int STAGING_SLOTS = 4;
    static final int STAGING_SLOT_BYTES = 4 * 1024 * 1024;
    private static final int CU_EVENT_DISABLE_TIMING = 0x2;

    private final CudaContext context;
    private final CudaStreams streams;
    private final TenantMemory tenant;
    private final HostPointer[] slotPointers = new HostPointer[STAGING_SLOTS];
    private final UnsafeBuffer[] slotBuffers = new UnsafeBuffer[STAGING_SLOTS];
    private final CUevent[] slotEvents = new CUevent[STAGING_SLOTS];
    private final boolean[] slotPending = new boolean[STAGING_SLOTS];
    private int nextSlot;
    private boolean memset2dSupported = true;

    CudaMemory(final CudaContext context, final CudaStreams streams, final TenantMemory tenant)
    {
        this.context = context;
        this.streams = streams;
        this.tenant = tenant;
    }

    int memAlloc(final long bytes, final CallResult result)
    {
        int status = tenant.admit(bytes, result);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        final DevicePointer pointer = new DevicePointer();
        status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuMemAlloc(pointer, bytes);
        }
        if (status == CUDA_SUCCESS)
        {
            tenant.allocated(pointer.address(), bytes);
            result.value1 = pointer.address();
        }
        else
        {
            tenant.notAllocated(bytes);
        }
        return status;
    }

    int memFree(final long deviceAddress)
    {
        if (deviceAddress == 0)
        {
            return CUDA_SUCCESS;
        }
        if (tenant.free(deviceAddress) < 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuMemFree(DevicePointer.at(deviceAddress));
        }
        return status;
    }

    int copyHostToDevice(
        final long streamHandle, final long deviceAddress, final DirectBuffer source, final int offset, final int length)
    {
        final CUstream stream = streams.stream(streamHandle);
        if (stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if (!tenant.contains(deviceAddress, length))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        int status = context.enter();
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        for (int position = 0; position < length && status == CUDA_SUCCESS; position += STAGING_SLOT_BYTES)
        {
            final int chunk = Math.min(STAGING_SLOT_BYTES, length - position);
            final int slot = nextSlot;
            nextSlot = (nextSlot + 1) % STAGING_SLOTS;
            status = awaitSlot(slot);
            if (status == CUDA_SUCCESS)
            {
                source.getBytes(offset + position, slotBuffers[slot], 0, chunk);
                status = cuMemcpyHtoDAsync(DevicePointer.at(deviceAddress + position), slotPointers[slot], chunk, stream);
            }
            if (status == CUDA_SUCCESS)
            {
                status = recordSlot(slot, stream);
            }
        }
        return status;
    }

    /**
     * Whole staging slots cross PCIe and go to the sink in pieces of at most {@code maxChunkBytes}.
     */
    int copyDeviceToHost(
        final long streamHandle, final long deviceAddress, final long bytes, final int maxChunkBytes,
        final DeviceDataSink sink)
    {
        final CUstream stream = streams.stream(streamHandle);
        if (stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if (bytes < 0 || maxChunkBytes <= 0 || !tenant.contains(deviceAddress, bytes))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        int status = context.enter();
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        // Whole staging slots cross PCIe (one copy and one event per 4 MiB), and go out in network-sized pieces:
        // a copy and an event per network message would cost the driver more than the bytes do.
        final long chunkBytes = STAGING_SLOT_BYTES;
        final long chunks = (bytes + chunkBytes - 1) / chunkBytes;
        long issued = 0;
        long delivered = 0;
        while (delivered < chunks)
        {
            while (issued < chunks && issued - delivered < STAGING_SLOTS)
            {
                final int slot = (int)(issued % STAGING_SLOTS);
                final long offset = issued * chunkBytes;
                status = awaitSlot(slot);
                if (status == CUDA_SUCCESS)
                {
                    status = cuMemcpyDtoHAsync(slotPointers[slot], DevicePointer.at(deviceAddress + offset),
                        Math.min(chunkBytes, bytes - offset), stream);
                }
                if (status == CUDA_SUCCESS)
                {
                    status = recordSlot(slot, stream);
                }
                if (status != CUDA_SUCCESS)
                {
                    return status;
                }
                issued++;
            }
            final int slot = (int)(delivered % STAGING_SLOTS);
            final long offset = delivered * chunkBytes;
            status = awaitSlot(slot);
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
            final long slotBytes = Math.min(chunkBytes, bytes - offset);
            for (long sent = 0; sent < slotBytes; sent += maxChunkBytes)
            {
                if (!sink.onData(offset + sent, slotPointers[slot].address() + sent,
                    (int)Math.min(maxChunkBytes, slotBytes - sent)))
                {
                    return CUDA_ERROR_UNKNOWN;
                }
            }
            delivered++;
        }
        return CUDA_SUCCESS;
    }

    int copyDeviceToDevice(
        final long streamHandle, final long dstDeviceAddress, final long srcDeviceAddress, final long bytes)
    {
        final CUstream stream = streams.stream(streamHandle);
        if (stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        if (!tenant.contains(dstDeviceAddress, bytes) || !tenant.contains(srcDeviceAddress, bytes))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        int status = context.enter();
        if (status == CUDA_SUCCESS)
        {
            status = cuMemcpyDtoDAsync(DevicePointer.at(dstDeviceAddress), DevicePointer.at(srcDeviceAddress), bytes, stream);
        }
        return status;
    }

    int memset(
        final long streamHandle, final long deviceAddress, final int value, final int elementSize,
        final long width, final long height, final long pitch)
    {
        final CUstream stream = streams.stream(streamHandle);
        if (stream == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final long span = TenantMemory.span(width, elementSize, height, pitch);
        if ((elementSize != 1 && elementSize != 2 && elementSize != 4) || span < 0 || deviceAddress % elementSize != 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (!tenant.contains(deviceAddress, span))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (width == 0)
        {
            return CUDA_SUCCESS;
        }
        int status = context.enter();
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        if (height == 1)
        {
            return memsetRow(stream, deviceAddress, value, elementSize, width);
        }
        if (memset2dSupported)
        {
            final DevicePointer target = DevicePointer.at(deviceAddress);
            status = switch (elementSize)
            {
                case 1 -> cuMemsetD2D8Async(target, pitch, (byte)value, width, height, stream);
                case 2 -> cuMemsetD2D16Async(target, pitch, (short)value, width, height, stream);
                default -> cuMemsetD2D32Async(target, pitch, value, width, height, stream);
            };
            if (status != CUDA_ERROR_NOT_SUPPORTED)
            {
                return status;
            }
            // A driver without 2D memset (our own libcuda.so.1 in CI) gets one 1D memset per row.
            memset2dSupported = false;
        }
        status = CUDA_SUCCESS;
        for (long row = 0; row < height && status == CUDA_SUCCESS; row++)
        {
            status = memsetRow(stream, deviceAddress + row * pitch, value, elementSize, width);
        }
        return status;
    }

    /**
     * Forget the tenant's memory; with the context current, free its allocations and the staging slots first.
     */
    void close(final boolean contextCurrent)
    {
        if (contextCurrent)
        {
            for (int i = 0; i < tenant.allocationCount(); i++)
            {
                cuMemFree(DevicePointer.at(tenant.allocationAt(i)));
            }
            for (int slot = 0; slot < STAGING_SLOTS; slot++)
            {
                if (slotPointers[slot] != null)
                {
                    cuEventDestroy(slotEvents[slot]);
                    cuMemFreeHost(slotPointers[slot]);
                }
            }
        }
        tenant.clear();
    }

    private int memsetRow(final CUstream stream, final long address, final int value, final int elementSize, final long width)
    {
        final DevicePointer target = DevicePointer.at(address);
        return switch (elementSize)
        {
            case 1 -> cuMemsetD8Async(target, (byte)value, width, stream);
            case 2 -> cuMemsetD16Async(target, (short)value, width, stream);
            default -> cuMemsetD32Async(target, value, width, stream);
        };
    }

    /** Wait until a staging slot's last copy is done, allocating the slot on first use. */
    private int awaitSlot(final int slot)
    {
        if (slotPointers[slot] == null)
        {
            final HostPointer pointer = new HostPointer();
            int status = cuMemAllocHost(pointer, STAGING_SLOT_BYTES);
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
            final CUevent event = new CUevent();
            status = cuEventCreate(event, CU_EVENT_DISABLE_TIMING);
            if (status != CUDA_SUCCESS)
            {
                cuMemFreeHost(pointer);
                return status;
            }
            slotPointers[slot] = pointer;
            slotBuffers[slot] = new UnsafeBuffer(pointer.address(), STAGING_SLOT_BYTES);
            slotEvents[slot] = event;
            return CUDA_SUCCESS;
        }
        if (!slotPending[slot])
        {
            return CUDA_SUCCESS;
        }
        slotPending[slot] = false;
        return cuEventSynchronize(slotEvents[slot]);
    }

    private int recordSlot(final int slot, final CUstream stream)
    {
        final int status = cuEventRecord(slotEvents[slot], stream);
        slotPending[slot] = status == CUDA_SUCCESS;
        return status;
    }
}
