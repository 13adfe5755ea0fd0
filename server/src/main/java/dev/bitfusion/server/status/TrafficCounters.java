package dev.bitfusion.server.status;

import io.aeron.Aeron;
import io.aeron.Counter;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

import static dev.bitfusion.server.status.ServerCounters.*;

/**
 * Calls, bytes in, bytes out and errors of one session or of one GPU, as four counters of
 * {@link ServerCounters}: a session's are labelled "bitfusion session 3 calls: gpu=0 client=...", a GPU's
 * "bitfusion gpu 0 calls". A session's counters add to its GPU's as they count, so a GPU's keep what its
 * sessions did after they end.
 * <p>
 * Allocated on the control path (a session's as it opens, a GPU's as the server starts) and closed by their
 * owner (the session as it ends, the server as it stops); the hot path only adds to them, without allocation
 * or locks.
 * <p>
 * Thread safety: a session's counters are updated by that session's thread only (ordered adds); a GPU's by the
 * threads of all its sessions (atomic adds); any thread may read them.
 */
public final class TrafficCounters implements AutoCloseable
{
    private final Counter calls;
    private final Counter bytesIn;
    private final Counter bytesOut;
    private final Counter errors;
    private final TrafficCounters gpu;

    private TrafficCounters(
        final Counter calls, final Counter bytesIn, final Counter bytesOut, final Counter errors, final TrafficCounters gpu)
    {
        this.calls = calls;
        this.bytesIn = bytesIn;
        this.bytesOut = bytesOut;
        this.errors = errors;
        this.gpu = gpu;
    }

    /**
     * @param aeron    the server's client.
     * @param gpuIndex the GPU.
     * @return its counters, which its sessions' counters add to.
     */
    public static TrafficCounters forGpu(final Aeron aeron, final int gpuIndex)
    {
        final UnsafeBuffer key = new UnsafeBuffer(new byte[Integer.BYTES]);
        key.putInt(0, gpuIndex, ByteOrder.LITTLE_ENDIAN);
        final String prefix = "bitfusion gpu " + gpuIndex;
        return allocate(aeron, key, GPU_CALLS_TYPE_ID, prefix + " calls", GPU_BYTES_IN_TYPE_ID, prefix + " bytes in",
            GPU_BYTES_OUT_TYPE_ID, prefix + " bytes out", GPU_ERRORS_TYPE_ID, prefix + " errors", null);
    }

    /**
     * @param aeron     the server's client.
     * @param sessionId the session.
     * @param clientId  who opened it, as the client said.
     * @param gpu       its GPU's counters.
     * @param gpuIndex  its GPU.
     * @return its counters.
     */
    public static TrafficCounters forSession(
        final Aeron aeron, final long sessionId, final String clientId, final TrafficCounters gpu, final int gpuIndex)
    {
        final UnsafeBuffer key = new UnsafeBuffer(new byte[Long.BYTES + Integer.BYTES]);
        key.putLong(0, sessionId, ByteOrder.LITTLE_ENDIAN);
        key.putInt(Long.BYTES, gpuIndex, ByteOrder.LITTLE_ENDIAN);
        final String prefix = "bitfusion session " + sessionId;
        final String suffix = ": gpu=" + gpuIndex + " client=" +
            clientId.substring(0, Math.min(clientId.length(), MAX_CLIENT_LABEL_LENGTH));
        return allocate(aeron, key, SESSION_CALLS_TYPE_ID, prefix + " calls" + suffix,
            SESSION_BYTES_IN_TYPE_ID, prefix + " bytes in" + suffix, SESSION_BYTES_OUT_TYPE_ID, prefix + " bytes out" + suffix,
            SESSION_ERRORS_TYPE_ID, prefix + " errors" + suffix, gpu);
    }

    /**
     * A request arrived and is executed.
     *
     * @param bytes its length.
     */
    public void onRequest(final int bytes)
    {
        calls.incrementRelease();
        bytesIn.getAndAddRelease(bytes);
        gpu.calls.increment();
        gpu.bytesIn.getAndAdd(bytes);
    }

    /**
     * A reply went out.
     *
     * @param bytes its length.
     * @param error whether it carried an error.
     */
    public void onReply(final int bytes, final boolean error)
    {
        bytesOut.getAndAddRelease(bytes);
        gpu.bytesOut.getAndAdd(bytes);
        if (error)
        {
            errors.incrementRelease();
            gpu.errors.increment();
        }
    }

    public long calls()
    {
        return calls.get();
    }

    public long bytesIn()
    {
        return bytesIn.get();
    }

    public long bytesOut()
    {
        return bytesOut.get();
    }

    public long errors()
    {
        return errors.get();
    }

    public void close()
    {
        CloseHelper.quietCloseAll(calls, bytesIn, bytesOut, errors);
    }

    private static TrafficCounters allocate(
        final Aeron aeron, final UnsafeBuffer key,
        final int callsTypeId, final String callsLabel, final int bytesInTypeId, final String bytesInLabel,
        final int bytesOutTypeId, final String bytesOutLabel, final int errorsTypeId, final String errorsLabel,
        final TrafficCounters gpu)
    {
        Counter calls = null;
        Counter bytesIn = null;
        Counter bytesOut = null;
        try
        {
            calls = ServerCounters.allocate(aeron, callsTypeId, key, callsLabel);
            bytesIn = ServerCounters.allocate(aeron, bytesInTypeId, key, bytesInLabel);
            bytesOut = ServerCounters.allocate(aeron, bytesOutTypeId, key, bytesOutLabel);
            return new TrafficCounters(
                calls, bytesIn, bytesOut, ServerCounters.allocate(aeron, errorsTypeId, key, errorsLabel), gpu);
        }
        catch (final RuntimeException ex)
        {
            CloseHelper.quietCloseAll(calls, bytesIn, bytesOut);
            throw ex;
        }
    }
}
