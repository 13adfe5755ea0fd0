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
     * @return the CUDA version the backend serves, as cuDriverGetVersion reports it (12040 for 12.4), or -1 when it
     * cannot tell; clients filter and place by it ({@code --filter server.cuda-version=12.4}).
     */
    int cudaVersion();

    /**
     * @return the version of the GPU driver under the backend (560.35.03), "emulated" for the emulated GPU, or
     * empty when it cannot tell; clients filter by it ({@code --filter server.driver-version=560}).
     */
    String driverVersion();

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
