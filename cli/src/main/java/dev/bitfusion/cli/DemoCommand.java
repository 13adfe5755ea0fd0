package dev.bitfusion.cli;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.server.GpuServer;
import dev.bitfusion.server.ServerErrorLog;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.transport.Endpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.DatagramSocket;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code bitfusion demo}: the main job on the embedded default. Starts a local server (the emulated GPU),
 * or uses the servers given, then drives it through RemoteDriver: allocate on a slice, copy host to
 * device, memset, copy device to device, copy back, verify every byte, and print what it saw.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run a small verified RemoteDriver program on a (partial) remote GPU.")
final class DemoCommand implements Callable<Integer>
{
    @Option(names = "--server_list", paramLabel = "HOST:PORT,...", description = "Server to use (default: embedded).")
    String serverList;

    @Option(names = "-p", paramLabel = "FRACTION", description = "Fraction of the GPU's memory (default 0.5).")
    double fraction = 0.5;

    @Option(names = "--megabytes", description = "Size of the buffer to round-trip, in MiB (default 64).")
    int megabytes = 64;

    public Integer call() throws Exception
    {
        final List<Endpoint> servers = ServerList.resolve(serverList);
        GpuServer embedded = null;
        if (servers.isEmpty())
        {
            final int port;
            try (DatagramSocket socket = new DatagramSocket(0))
            {
                port = socket.getLocalPort();
            }
            final Endpoint endpoint = new Endpoint("127.0.0.1", port);
            embedded = GpuServer.launch(new GpuServer.Context()
                .endpoint(endpoint)
                .backend(ServerCommand.createBackend("auto", 1, 16384))
                .errorLog(new ServerErrorLog(System.err, false)));
            System.err.println("bitfusion: no server configured; started an embedded one: " + embedded.describe());
            servers.add(endpoint);
        }

        try (RemoteDriver driver = new RemoteDriver(
            new ClientSettings().server(servers.get(0)).gpuCount(1).memoryFraction(fraction), System.out))
        {
            return run(driver);
        }
        finally
        {
            if (embedded != null)
            {
                embedded.close();
            }
        }
    }

    private int run(final RemoteDriver driver)
    {
        final int bytes = megabytes << 20;
        try (NativeBuffer out = NativeBuffer.allocate(256);
            NativeBuffer host = NativeBuffer.allocate(bytes);
            NativeBuffer back = NativeBuffer.allocate(bytes))
        {
            check(driver.cuInit(0), "cuInit", driver);
            check(driver.devices().cuDeviceGetName(out.address(), 128, 0), "cuDeviceGetName", driver);
            final String name = out.getStringWithoutLengthAscii(0, 128).split("\0", 2)[0];
            check(driver.devices().cuDeviceTotalMem(out.address(), 0), "cuDeviceTotalMem", driver);
            final long total = out.getLong(0);
            check(driver.contexts().cuDevicePrimaryCtxRetain(out.address(), 0), "cuDevicePrimaryCtxRetain", driver);
            check(driver.contexts().cuCtxSetCurrent(out.getLong(0)), "cuCtxSetCurrent", driver);
            System.out.printf("device 0: %s, slice of %d MiB (%s)%n", name, total >> 20,
                driver.session(0).isIpc() ? "ipc" : "udp");

            for (int i = 0; i < bytes; i++)
            {
                host.putByte(i, (byte)(i * 31 + (i >>> 11)));
            }
            check(driver.memory().cuMemAlloc(out.address(), bytes), "cuMemAlloc", driver);
            final long source = out.getLong(0);
            check(driver.memory().cuMemAlloc(out.address(), bytes), "cuMemAlloc", driver);
            final long target = out.getLong(0);

            final long startNs = System.nanoTime();
            check(driver.memory().cuMemcpyHtoD(source, host.address(), bytes), "cuMemcpyHtoD", driver);
            check(driver.memory().cuMemsetD32(source, 0x2A2A2A2A, 256), "cuMemsetD32", driver);
            check(driver.memory().cuMemcpyDtoD(target, source, bytes), "cuMemcpyDtoD", driver);
            check(driver.memory().cuMemcpyDtoH(back.address(), target, bytes), "cuMemcpyDtoH", driver);
            final double seconds = (System.nanoTime() - startNs) / 1e9;

            check(driver.memory().cuMemGetInfo(out.address(), out.address(8)), "cuMemGetInfo", driver);
            final long free = out.getLong(0);
            final long slice = out.getLong(8);

            long mismatches = 0;
            for (int i = 0; i < bytes; i++)
            {
                final byte expected = i < 1024 ? (byte)0x2A : host.getByte(i);
                if (back.getByte(i) != expected)
                {
                    mismatches++;
                }
            }
            check(driver.memory().cuMemFree(source), "cuMemFree", driver);
            check(driver.memory().cuMemFree(target), "cuMemFree", driver);
            check(driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize", driver);

            System.out.printf("round trip of %d MiB (H2D, memset, D2D, D2H) in %.3f s; cuMemGetInfo: %d MiB free of %d MiB%n",
                bytes >> 20, seconds, free >> 20, slice >> 20);
            if (mismatches != 0)
            {
                System.out.println("FAILED: " + mismatches + " bytes differ");
                return 1;
            }
            System.out.println("PASSED: all " + bytes + " bytes verified");
            return 0;
        }
    }

    private static void check(final int result, final String call, final RemoteDriver driver)
    {
        if (result != CuResult.CUDA_SUCCESS)
        {
            throw new IllegalStateException(call + " failed: " + CuResult.describe(result) +
                (driver.lastError() != null ? " (" + driver.lastError() + ")" : ""));
        }
    }
}
