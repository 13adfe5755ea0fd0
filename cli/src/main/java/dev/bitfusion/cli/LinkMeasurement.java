package dev.bitfusion.cli;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.transport.Endpoint;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Arrays;

/**
 * Measures the path a CUDA program would use to a server, through a real {@link RemoteDriver} session on
 * a small slice: round-trip latency as the median of many {@code cuCtxSynchronize} calls (each one round
 * trip, nothing queued), and copy bandwidth as one host-to-device plus one device-to-host copy.
 * <p>
 * The session is opened as {@code bitfusion run} would open it (same transport choice, same token), so
 * what is measured is what a program gets, including the server's per-call work.
 * <p>
 * Thread safety: stateless; each call opens and closes its own session.
 */
final class LinkMeasurement
{
    /** Synchronize calls timed for the latency median. */
    static final int LATENCY_SAMPLES = 200;
    /** Calls made first, so connection set-up and JIT warm-up are not measured. */
    static final int WARM_UP_CALLS = 20;
    /** Bytes copied each way for the bandwidth figure. */
    static final int COPY_BYTES = 64 << 20;
    /** The slice to ask for: just the copy buffer, so a busy GPU can still be measured. */
    static final long SLICE_MB = COPY_BYTES >> 20;

    /**
     * @param latencyNs            median round trip of an empty synchronize.
     * @param bandwidthBytesPerSec bytes copied both ways over the time both copies took.
     */
    record Result(long latencyNs, double bandwidthBytesPerSec)
    {
    }

    private LinkMeasurement()
    {
    }

    /**
     * @param server        the server.
     * @param token         the token to present.
     * @param openTimeoutNs how long to wait for the session to open.
     * @return what was measured.
     * @throws HealthProbeException when the session cannot be opened or a call fails.
     */
    static Result measure(final Endpoint server, final String token, final long openTimeoutNs)
    {
        final ClientSettings settings = new ClientSettings()
            .server(server)
            .gpuCount(1)
            .memoryMb(SLICE_MB)
            .token(token)
            .openTimeoutNs(openTimeoutNs);
        // Nothing runs kernels here, so there is no device output to show.
        try (RemoteDriver driver = new RemoteDriver(settings, new PrintStream(OutputStream.nullOutputStream()),
            new PrintStream(OutputStream.nullOutputStream()));
            NativeBuffer out = NativeBuffer.allocate(Long.BYTES);
            NativeBuffer host = NativeBuffer.allocate(COPY_BYTES))
        {
            check(driver, driver.cuInit(0), "open a session");
            check(driver, driver.contexts().cuDevicePrimaryCtxRetain(out.address(), 0), "cuDevicePrimaryCtxRetain");
            check(driver, driver.contexts().cuCtxSetCurrent(out.getLong(0)), "cuCtxSetCurrent");

            for (int i = 0; i < WARM_UP_CALLS; i++)
            {
                check(driver, driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize");
            }
            final long[] samples = new long[LATENCY_SAMPLES];
            for (int i = 0; i < LATENCY_SAMPLES; i++)
            {
                final long startNs = System.nanoTime();
                check(driver, driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize");
                samples[i] = System.nanoTime() - startNs;
            }
            Arrays.sort(samples);
            final long medianNs = samples[LATENCY_SAMPLES / 2];

            host.setMemory(0, COPY_BYTES, (byte)0x5A);
            check(driver, driver.memory().cuMemAlloc(out.address(), COPY_BYTES), "cuMemAlloc of " + SLICE_MB + " MiB");
            final long device = out.getLong(0);
            final long startNs = System.nanoTime();
            check(driver, driver.memory().cuMemcpyHtoD(device, host.address(), COPY_BYTES), "cuMemcpyHtoD");
            // The H2D copy returns once its data is sent; the synchronize waits until the server has it.
            check(driver, driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize");
            check(driver, driver.memory().cuMemcpyDtoH(host.address(), device, COPY_BYTES), "cuMemcpyDtoH");
            final long elapsedNs = Math.max(1, System.nanoTime() - startNs);
            check(driver, driver.memory().cuMemFree(device), "cuMemFree");

            return new Result(medianNs, 2.0 * COPY_BYTES * 1e9 / elapsedNs);
        }
    }

    private static void check(final RemoteDriver driver, final int result, final String what)
    {
        if (result != CuResult.CUDA_SUCCESS)
        {
            throw new HealthProbeException("cannot " + (what.startsWith("cu") ? "call " : "") + what + ": " +
                CuResult.describe(result) + (driver.lastError() != null ? " (" + driver.lastError() + ")" : ""));
        }
    }
}
