package dev.bitfusion.agent.driver;

import dev.bitfusion.agent.wire.CallSlot;
import dev.bitfusion.agent.wire.ServerSession;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Bulk copies between this process's memory and a GPU, in pieces an array index can address. Host to
 * device: the bytes are in the request stream when the copy returns, so the program may reuse its memory.
 * Device to host: the bytes are in host memory before the reply that completes the copy, written by the
 * thread that receives it.
 * <p>
 * Thread safety: stateless; the sessions are thread safe.
 */
final class Transfers
{
    /** Largest piece of a copy sent or received at once. */
    static final long MAX_COPY_PIECE = 1L << 30;

    private Transfers()
    {
    }

    /**
     * @param wireStream the stream as the server names it.
     */
    static int toDevice(final ServerSession session, final long wireStream, final long dst, final long src, final long bytes)
    {
        for (long copied = 0; copied < bytes; copied += MAX_COPY_PIECE)
        {
            final int piece = (int)Math.min(MAX_COPY_PIECE, bytes - copied);
            final int status = session.proxy().memcpyHtoD(wireStream, dst + copied, src + copied, piece);
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
        }
        return CUDA_SUCCESS;
    }

    /**
     * Waits for the data, as CUDA does for copies into pageable memory; device output printed before the
     * copy is shown, and an earlier asynchronous error is returned.
     *
     * @param wireStream the stream as the server names it.
     */
    static int toHost(
        final ServerSession session, final long wireStream, final long dst, final long src, final long bytes,
        final Diagnostics diagnostics)
    {
        long copied = 0;
        do
        {
            final int piece = (int)Math.min(MAX_COPY_PIECE, bytes - copied);
            final CallSlot slot = session.slot();
            slot.copyInto(dst + copied, piece);
            int status = session.await(slot, session.proxy().memcpyDtoH(slot, wireStream, src + copied, piece));
            session.flushDeviceOutput();
            if (status == CUDA_SUCCESS && slot.copyReceivedBytes() != piece)
            {
                diagnostics.failed("device-to-host copy delivered " + slot.copyReceivedBytes() + " of " + piece + " bytes");
                return CUDA_ERROR_UNKNOWN;
            }
            status = status == CUDA_SUCCESS ? session.takeDeferredError() : status;
            if (status != CUDA_SUCCESS)
            {
                return status;
            }
            copied += piece;
        }
        while (copied < bytes);
        return CUDA_SUCCESS;
    }
}
