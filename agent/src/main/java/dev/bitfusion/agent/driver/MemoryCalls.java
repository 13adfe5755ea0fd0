package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.CallSlot;
import dev.bitfusion.agent.wire.ServerSession;
import dev.bitfusion.transport.protocol.SyncKind;
import org.agrona.UnsafeApi;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Device memory: allocation in the tenant's slice, copies in every direction (host memory is this
 * process's, given by address), memsets, pitched memory and 2D and 3D copies. Device pointers come from the server;
 * the ranges this process holds are remembered ({@link DeviceAllocations}) so unified-addressing copies tell
 * device from host memory without a round trip.
 * <p>
 * GPUs of a program may sit on different servers: a copy between two of them goes from server to server
 * ({@link PeerCopies}), or through this process, in pieces, when the servers cannot reach each other or are one
 * server; either way after the stream's earlier work, and before the destination's later work.
 * <p>
 * Thread safety: thread safe.
 */
public final class MemoryCalls
{
    /** Rows of pitched allocations start on this boundary, as on the GPUs the emulator models. */
    private static final long PITCH_ALIGNMENT = 512;
    /** Pieces in which a copy between two GPUs passes through this process. */
    private static final int PEER_COPY_PIECE = 4 << 20;

    private final Sessions sessions;
    private final ContextState contexts;
    private final StreamTable streams;
    private final MappedMemory mapped;
    private final DeviceAllocations allocations;
    private final Diagnostics diagnostics;
    private final PeerCopies peerCopies;

    MemoryCalls(
        final Sessions sessions, final ContextState contexts, final StreamTable streams, final MappedMemory mapped,
        final DeviceAllocations allocations, final Diagnostics diagnostics)
    {
        this.sessions = sessions;
        this.contexts = contexts;
        this.streams = streams;
        this.mapped = mapped;
        this.allocations = allocations;
        this.diagnostics = diagnostics;
        this.peerCopies = new PeerCopies(diagnostics);
    }

    /**
     * In the current context's slice; past the slice the server answers CUDA_ERROR_OUT_OF_MEMORY.
     */
    public int cuMemAlloc(final long dptr, final long bytesize)
    {
        if (dptr == 0 || bytesize == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final ServerSession session = contexts.currentSession();
        if (session == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final CallSlot slot = session.slot();
        final int status = session.await(slot, session.proxy().memAlloc(slot, bytesize));
        if (status == CUDA_SUCCESS)
        {
            allocations.add(slot.value1(), bytesize, contexts.currentDevice());
            NativeMemory.putLong(dptr, slot.value1());
        }
        else if (slot.message() != null)
        {
            diagnostics.failed(slot.message());
        }
        return status;
    }

    public int cuMemAllocPitch(
        final long dptr, final long pPitch, final long widthInBytes, final long height, final int elementSizeBytes)
    {
        if (dptr == 0 || pPitch == 0 || widthInBytes == 0 || height == 0 ||
            (elementSizeBytes != 4 && elementSizeBytes != 8 && elementSizeBytes != 16))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final long pitch = (widthInBytes + PITCH_ALIGNMENT - 1) / PITCH_ALIGNMENT * PITCH_ALIGNMENT;
        final int status = cuMemAlloc(dptr, pitch * height);
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putLong(pPitch, pitch);
        }
        return status;
    }

    /**
     * Stream-ordered allocation without pools: the memory is allocated at once, so it is there for whatever
     * the stream does next.
     */
    public int cuMemAllocAsync(final long dptr, final long bytesize, final long hStream)
    {
        return cuMemAlloc(dptr, bytesize);
    }

    /**
     * Asynchronous: a failure comes back at the next synchronisation.
     */
    public int cuMemFree(final long dptr)
    {
        final ServerSession session = contexts.currentSession();
        if (session == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final int status = session.proxy().memFree(dptr);
        if (status == CUDA_SUCCESS)
        {
            allocations.remove(dptr);
        }
        return status;
    }

    /**
     * Freed once the stream's earlier work is done, which the caller waits for.
     */
    public int cuMemFreeAsync(final long dptr, final long hStream)
    {
        final ServerSession session = streams.sessionOf(hStream);
        if (session == null)
        {
            return CUDA_ERROR_INVALID_HANDLE;
        }
        final int status = session.synchronize(SyncKind.STREAM_SYNCHRONIZE, StreamTable.wireStream(hStream));
        return status == CUDA_SUCCESS ? cuMemFree(dptr) : status;
    }

    /**
     * The slice's free and total memory.
     */
    public int cuMemGetInfo(final long free, final long total)
    {
        if (free == 0 || total == 0)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        final ServerSession session = contexts.currentSession();
        if (session == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        final CallSlot slot = session.slot();
        final int status = session.await(slot, session.proxy().memGetInfo(slot));
        if (status == CUDA_SUCCESS)
        {
            NativeMemory.putLong(free, slot.value1());
            NativeMemory.putLong(total, slot.value2());
        }
        return status;
    }

    /**
     * From this process's own table of device ranges: no round trip.
     *
     * @return CUDA_ERROR_NOT_FOUND when the address is in no device allocation, as the driver answers.
     */
    public int cuMemGetAddressRange(final long pbase, final long psize, final long dptr)
    {
        final long base = allocations.baseOf(dptr);
        if (base == 0)
        {
            return CUDA_ERROR_NOT_FOUND;
        }
        NativeMemory.putLongIfWanted(pbase, base);
        NativeMemory.putLongIfWanted(psize, allocations.lengthOf(base));
        return CUDA_SUCCESS;
    }

    public int cuMemcpyHtoD(final long dstDevice, final long srcHost, final long byteCount)
    {
        return cuMemcpyHtoDAsync(dstDevice, srcHost, byteCount, 0);
    }

    /**
     * The bytes are in the request stream when this returns, so the program may reuse its memory at once.
     */
    public int cuMemcpyHtoDAsync(final long dstDevice, final long srcHost, final long byteCount, final long hStream)
    {
        final ServerSession session = streams.sessionOf(hStream);
        if (session == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        if (byteCount < 0 || (srcHost == 0 && byteCount > 0))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        return Transfers.toDevice(session, StreamTable.wireStream(hStream), dstDevice, srcHost, byteCount);
    }

    /**
     * Complete on return; device writes to mapped host memory are then visible too.
     */
    public int cuMemcpyDtoH(final long dstHost, final long srcDevice, final long byteCount)
    {
        return mapped.pullDeviceWritesAfter(cuMemcpyDtoHAsync(dstHost, srcDevice, byteCount, 0));
    }

    /**
     * Waits for the data, as CUDA does for copies into pageable memory.
     */
    public int cuMemcpyDtoHAsync(final long dstHost, final long srcDevice, final long byteCount, final long hStream)
    {
        final ServerSession session = streams.sessionOf(hStream);
        if (session == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        if (byteCount < 0 || (dstHost == 0 && byteCount > 0))
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        return Transfers.toHost(session, StreamTable.wireStream(hStream), dstHost, srcDevice, byteCount, diagnostics);
    }

    public int cuMemcpyDtoD(final long dstDevice, final long srcDevice, final long byteCount)
    {
        return cuMemcpyDtoDAsync(dstDevice, srcDevice, byteCount, 0);
    }

    /**
     * Within one GPU the server copies; between two GPUs of this program see {@link #copyBetweenDevices}.
     */
    public int cuMemcpyDtoDAsync(final long dstDevice, final long srcDevice, final long byteCount, final long hStream)
    {
        final int dstGpu = allocations.deviceOf(dstDevice);
        final int srcGpu = allocations.deviceOf(srcDevice);
        if (dstGpu >= 0 && srcGpu >= 0 && dstGpu != srcGpu)
        {
            return copyBetweenDevices(dstDevice, dstGpu, srcDevice, srcGpu, byteCount, hStream);
        }
        final ServerSession session = streams.sessionOf(hStream);
        if (session == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        return session.proxy().memcpyDtoD(StreamTable.wireStream(hStream), dstDevice, srcDevice, byteCount);
    }

    public int cuMemcpy(final long dst, final long src, final long byteCount)
    {
        return cuMemcpyAsync(dst, src, byteCount, 0);
    }

    /**
     * Unified-addressing copy: the direction comes from this process's table of device ranges. Host-to-host
     * copies wait for the stream first, so they stay in order with the work queued before them.
     */
    public int cuMemcpyAsync(final long dst, final long src, final long byteCount, final long hStream)
    {
        final boolean dstDevice = allocations.isDevice(dst);
        final boolean srcDevice = allocations.isDevice(src);
        if (dstDevice)
        {
            return srcDevice ? cuMemcpyDtoDAsync(dst, src, byteCount, hStream) :
                cuMemcpyHtoDAsync(dst, src, byteCount, hStream);
        }
        if (srcDevice)
        {
            return cuMemcpyDtoHAsync(dst, src, byteCount, hStream);
        }
        final int status = waitForStream(hStream);
        if (status == CUDA_SUCCESS && byteCount > 0)
        {
            NativeMemory.copy(src, dst, byteCount);
        }
        return status;
    }

    public int cuMemcpyPeer(
        final long dstDevice, final long dstContext, final long srcDevice, final long srcContext, final long byteCount)
    {
        return cuMemcpyPeerAsync(dstDevice, dstContext, srcDevice, srcContext, byteCount, 0);
    }

    /**
     * The contexts name the GPUs; the copy waits for the stream's earlier work first.
     */
    public int cuMemcpyPeerAsync(
        final long dstDevice, final long dstContext, final long srcDevice, final long srcContext, final long byteCount,
        final long hStream)
    {
        final int dstGpu = contexts.deviceOf(dstContext);
        final int srcGpu = contexts.deviceOf(srcContext);
        if (dstGpu < 0 || srcGpu < 0)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        return dstGpu == srcGpu ? cuMemcpyDtoDAsync(dstDevice, srcDevice, byteCount, hStream) :
            copyBetweenDevices(dstDevice, dstGpu, srcDevice, srcGpu, byteCount, hStream);
    }

    /**
     * A CUDA_MEMCPY2D copy, complete (on the device side too) when it returns.
     */
    public int cuMemcpy2D(final long pCopy)
    {
        return memcpy2D(pCopy, 0, true);
    }

    public int cuMemcpy2DAsync(final long pCopy, final long hStream)
    {
        return memcpy2D(pCopy, hStream, false);
    }

    /**
     * A CUDA_MEMCPY3D copy between pitched volumes (cudaMalloc3D's, or host memory described with a pitch),
     * complete (on the device side too) when it returns.
     */
    public int cuMemcpy3D(final long pCopy)
    {
        return memcpy3D(pCopy, 0, true);
    }

    public int cuMemcpy3DAsync(final long pCopy, final long hStream)
    {
        return memcpy3D(pCopy, hStream, false);
    }

    public int cuMemsetD8(final long dstDevice, final int uc, final long n)
    {
        return memset(dstDevice, uc & 0xff, 1, n, 1, 0, 0);
    }

    public int cuMemsetD16(final long dstDevice, final int us, final long n)
    {
        return memset(dstDevice, us & 0xffff, 2, n, 1, 0, 0);
    }

    public int cuMemsetD32(final long dstDevice, final int ui, final long n)
    {
        return memset(dstDevice, ui, 4, n, 1, 0, 0);
    }

    public int cuMemsetD8Async(final long dstDevice, final int uc, final long n, final long hStream)
    {
        return memset(dstDevice, uc & 0xff, 1, n, 1, 0, hStream);
    }

    public int cuMemsetD16Async(final long dstDevice, final int us, final long n, final long hStream)
    {
        return memset(dstDevice, us & 0xffff, 2, n, 1, 0, hStream);
    }

    public int cuMemsetD32Async(final long dstDevice, final int ui, final long n, final long hStream)
    {
        return memset(dstDevice, ui, 4, n, 1, 0, hStream);
    }

    public int cuMemsetD2D8(final long dstDevice, final long dstPitch, final int uc, final long width, final long height)
    {
        return memset2D(dstDevice, dstPitch, uc & 0xff, 1, width, height, 0);
    }

    public int cuMemsetD2D16(final long dstDevice, final long dstPitch, final int us, final long width, final long height)
    {
        return memset2D(dstDevice, dstPitch, us & 0xffff, 2, width, height, 0);
    }

    public int cuMemsetD2D32(final long dstDevice, final long dstPitch, final int ui, final long width, final long height)
    {
        return memset2D(dstDevice, dstPitch, ui, 4, width, height, 0);
    }

    public int cuMemsetD2D8Async(
        final long dstDevice, final long dstPitch, final int uc, final long width, final long height, final long hStream)
    {
        return memset2D(dstDevice, dstPitch, uc & 0xff, 1, width, height, hStream);
    }

    public int cuMemsetD2D16Async(
        final long dstDevice, final long dstPitch, final int us, final long width, final long height, final long hStream)
    {
        return memset2D(dstDevice, dstPitch, us & 0xffff, 2, width, height, hStream);
    }

    public int cuMemsetD2D32Async(
        final long dstDevice, final long dstPitch, final int ui, final long width, final long height, final long hStream)
    {
        return memset2D(dstDevice, dstPitch, ui, 4, width, height, hStream);
    }

    private int memset2D(
        final long dst, final long pitch, final int value, final int elementSize, final long width, final long height,
        final long stream)
    {
        if (pitch < width * elementSize)
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        return memset(dst, value, elementSize, width, height, pitch, stream);
    }

    private int memset(
        final long dst, final int value, final int elementSize, final long width, final long height, final long pitch,
        final long stream)
    {
        final ServerSession session = streams.sessionOf(stream);
        if (session == null)
        {
            return CUDA_ERROR_INVALID_CONTEXT;
        }
        return session.proxy().memset(StreamTable.wireStream(stream), dst, value, elementSize, width, height, pitch);
    }

    /**
     * Once the stream's earlier work is done: server to server when the GPUs are on two servers that reach each
     * other, else through this process.
     */
    private int copyBetweenDevices(
        final long dst, final int dstGpu, final long src, final int srcGpu, final long bytes, final long stream)
    {
        int status = waitForStream(stream);
        if (status != CUDA_SUCCESS || bytes <= 0)
        {
            return bytes < 0 ? CUDA_ERROR_INVALID_VALUE : status;
        }
        final ServerSession from = sessions.of(srcGpu);
        final ServerSession to = sessions.of(dstGpu);
        if (peerCopies.serverToServer(from, to))
        {
            status = peerCopies.copy(from, to, dst, src, bytes);
            if (status != PeerCopies.UNREACHABLE)
            {
                return status;
            }
        }
        status = CUDA_SUCCESS;
        final long staging = UnsafeApi.allocateMemory(Math.min(bytes, PEER_COPY_PIECE));
        try
        {
            for (long copied = 0; copied < bytes && status == CUDA_SUCCESS; copied += PEER_COPY_PIECE)
            {
                final long piece = Math.min(PEER_COPY_PIECE, bytes - copied);
                status = Transfers.toHost(from, 0, staging, src + copied, piece, diagnostics);
                if (status == CUDA_SUCCESS)
                {
                    status = Transfers.toDevice(to, 0, dst + copied, staging, piece);
                }
            }
            return status;
        }
        finally
        {
            UnsafeApi.freeMemory(staging);
        }
    }

    private int waitForStream(final long stream)
    {
        final ServerSession session = streams.sessionOf(stream);
        if (session == null)
        {
            return StreamTable.isDefaultStream(stream) ? CUDA_ERROR_INVALID_CONTEXT : CUDA_ERROR_INVALID_HANDLE;
        }
        return session.synchronize(SyncKind.STREAM_SYNCHRONIZE, StreamTable.wireStream(stream));
    }

    private int memcpy2D(final long pCopy, final long stream, final boolean synchronous)
    {
        return pCopy == 0 ? CUDA_ERROR_INVALID_VALUE :
            pitchedCopy(PitchedCopy.of2D(pCopy, allocations), "cuMemcpy2D", stream, synchronous);
    }

    private int memcpy3D(final long pCopy, final long stream, final boolean synchronous)
    {
        return pCopy == 0 ? CUDA_ERROR_INVALID_VALUE :
            pitchedCopy(PitchedCopy.of3D(pCopy, allocations), "cuMemcpy3D", stream, synchronous);
    }

    /**
     * A pitched copy in as few pieces as its layout allows; complete on the device side too when asked.
     */
    private int pitchedCopy(final PitchedCopy copy, final String call, final long stream, final boolean synchronous)
    {
        if (copy.hasArray())
        {
            return diagnostics.unsupported(call + " with a CUDA array");
        }
        if (!copy.isValid())
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (!copy.dstIsDevice() && !copy.srcIsDevice())
        {
            final int status = waitForStream(stream);
            for (long piece = 0; status == CUDA_SUCCESS && piece < copy.pieces(); piece++)
            {
                NativeMemory.copy(copy.srcPiece(piece), copy.dstPiece(piece), copy.pieceBytes());
            }
            return status;
        }
        for (long piece = 0; piece < copy.pieces(); piece++)
        {
            final long from = copy.srcPiece(piece);
            final long to = copy.dstPiece(piece);
            final int status = copy.dstIsDevice() ?
                copy.srcIsDevice() ? cuMemcpyDtoDAsync(to, from, copy.pieceBytes(), stream) :
                    cuMemcpyHtoDAsync(to, from, copy.pieceBytes(), stream) :
                cuMemcpyDtoHAsync(to, from, copy.pieceBytes(), stream);
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
        }
        // Device-to-host pieces are complete on return already; the others only need ordering.
        return synchronous && copy.dstIsDevice() ? waitForStream(stream) : CUDA_SUCCESS;
    }
}
