package dev.bitfusion.server.backend;

import java.util.List;

/**
 * Where the server's GPU work executes: the real NVIDIA driver or the emulated GPU.
 * <p>
 * Thread safety: {@link #openSession(int, long)} may be called from the control thread while sessions run.
 */
public interface GpuBackend extends AutoCloseable
{
    /**
     * @return "emulated" or "cuda", for start-up messages, list_gpus and health.
     */
    String kind();

    /**
     * @return the GPUs this server offers.
     */
    List<GpuDescriptor> gpus();

    /**
     * Open a tenant on one GPU.
     *
     * @param gpuIndex   which GPU.
     * @param budget   the slice of the reservation the tenant draws on, shared with its other sessions.
     * @return the tenant's session, used from one thread only.
     */
    BackendSession openSession(int gpuIndex, SliceBudget budget);

    void close();
}
