package dev.bitfusion.benchmarks.transport;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.server.GpuServer;
import dev.bitfusion.server.ServerErrorLog;
import dev.bitfusion.server.TokenAuthenticator;
import dev.bitfusion.server.backend.emulated.EmulatedBackend;
import dev.bitfusion.transport.Endpoint;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.DatagramSocket;
import java.util.Arrays;
import java.util.Locale;

/**
 * A copy of 64 MiB from device 0 to device 1 of one program whose two devices are on two emulated servers (in this
 * JVM, each with its own media driver, over UDP on loopback): server to server ({@code cuMemcpyPeer}, the servers
 * talking to each other) beside the same copy through the client (device to host from one, host to device to the
 * other in the 4 MiB pieces the client uses when the servers cannot reach each other), in the same run, the two
 * alternating. Prints the median of each with its spread (fastest, slowest) and the ratio of the medians, for servers
 * without a token (the chunks between servers are tagged all the same: SipHash at about 1.3 GB/s a core, once to
 * send and once to receive) and with one (the path through the client tags its requests too).
 * <p>
 * Run with {@code benchmarks/run PeerCopy}.
 */
public final class PeerCopyBenchmark
{
    /** The copy's size; {@code -Dbitfusion.benchmarks.peer.copy.mb=1} shows what a copy costs beyond its bytes. */
    private static final int BYTES = Integer.getInteger("bitfusion.benchmarks.peer.copy.mb", 64) << 20;
    private static final int PIECE = Math.min(4 << 20, BYTES);
    private static final int WARMUPS = 2;
    private static final int REPETITIONS = 7;

    private final RemoteDriver driver;
    private final NativeBuffer out = NativeBuffer.allocate(Long.BYTES);
    private final long[] contexts = new long[2];

    private PeerCopyBenchmark(final RemoteDriver driver)
    {
        this.driver = driver;
    }

    public static void main(final String[] args) throws Exception
    {
        run(System.out);
    }

    /**
     * @param out where the figures go.
     */
    public static void run(final PrintStream out) throws IOException
    {
        for (final boolean withToken : new boolean[]{ false, true })
        {
            final Endpoint a = new Endpoint("127.0.0.1", freePort());
            final Endpoint b = new Endpoint("127.0.0.1", freePort());
            try (GpuServer serverA = launch(a, withToken);
                GpuServer serverB = launch(b, withToken);
                RemoteDriver driver = new RemoteDriver(new ClientSettings().server(a).gpuCount(2)
                    .deviceServers(new Endpoint[]{ a, b }).gpuIndices(new int[]{ 0, 0 }).transport("udp")
                    .memoryFraction(0.5).token(withToken ? RemoteSetup.TOKEN : ""), System.out))
            {
                new PeerCopyBenchmark(driver).measure(out, withToken ?
                    "servers with a token: through the client, its requests are tagged" :
                    "servers without a token: only the chunks between servers are tagged");
            }
        }
    }

    private void measure(final PrintStream out, final String authentication)
    {
        check(driver.cuInit(0), "cuInit");
        for (int device = 0; device < 2; device++)
        {
            check(driver.contexts().cuDevicePrimaryCtxRetain(this.out.address(), device), "cuDevicePrimaryCtxRetain");
            contexts[device] = this.out.getLong(0);
        }
        final long src = alloc(0);
        final long dst = alloc(1);
        try (NativeBuffer host = NativeBuffer.allocate(BYTES); NativeBuffer staging = NativeBuffer.allocate(PIECE))
        {
            for (int i = 0; i < BYTES; i += Long.BYTES)
            {
                host.putLong(i, i * 0x9E3779B97F4A7C15L);
            }
            current(0);
            check(driver.memory().cuMemcpyHtoD(src, host.address(), BYTES), "cuMemcpyHtoD");

            final double[] serverToServer = new double[REPETITIONS];
            final double[] throughClient = new double[REPETITIONS];
            for (int i = -WARMUPS; i < REPETITIONS; i++)
            {
                final long peerStartNs = System.nanoTime();
                check(driver.memory().cuMemcpyPeer(dst, contexts[1], src, contexts[0], BYTES), "cuMemcpyPeer");
                final long peerNs = System.nanoTime() - peerStartNs;
                if (i == -WARMUPS)
                {
                    verify(dst, host, staging);
                }
                final long clientStartNs = System.nanoTime();
                copyThroughClient(dst, src, staging);
                final long clientNs = System.nanoTime() - clientStartNs;
                if (i >= 0)
                {
                    serverToServer[i] = peerNs / 1e6;
                    throughClient[i] = clientNs / 1e6;
                }
            }
            verify(dst, host, staging);
            print(out, authentication, serverToServer, throughClient);
        }
    }

    /**
     * What the client does when the servers cannot reach each other: each piece read from the source and written to
     * the destination through this process.
     */
    private void copyThroughClient(final long dst, final long src, final NativeBuffer staging)
    {
        for (int copied = 0; copied < BYTES; copied += PIECE)
        {
            current(0);
            check(driver.memory().cuMemcpyDtoH(staging.address(), src + copied, PIECE), "cuMemcpyDtoH");
            current(1);
            check(driver.memory().cuMemcpyHtoD(dst + copied, staging.address(), PIECE), "cuMemcpyHtoD");
        }
        check(driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize");
    }

    private void verify(final long dst, final NativeBuffer expected, final NativeBuffer staging)
    {
        current(1);
        for (int offset = 0; offset < BYTES; offset += PIECE)
        {
            check(driver.memory().cuMemcpyDtoH(staging.address(), dst + offset, PIECE), "cuMemcpyDtoH");
            for (int i = 0; i < PIECE; i += Long.BYTES)
            {
                if (staging.getLong(i) != expected.getLong(offset + i))
                {
                    throw new IllegalStateException("device 1 holds other bytes at " + (offset + i) + " after the copy");
                }
            }
        }
    }

    private static void print(
        final PrintStream out, final String authentication, final double[] serverToServer, final double[] throughClient)
    {
        Arrays.sort(serverToServer);
        Arrays.sort(throughClient);
        final double peer = serverToServer[REPETITIONS / 2];
        final double client = throughClient[REPETITIONS / 2];
        out.println();
        out.println("copy of " + (BYTES >> 20) + " MiB between devices on two emulated servers (udp on loopback), median of " +
            REPETITIONS + " (fastest..slowest); " + authentication);
        out.printf(Locale.ROOT, "%-32s %9.1f ms (%.1f..%.1f) %7.2f GB/s%n", "server to server",
            peer, serverToServer[0], serverToServer[REPETITIONS - 1], BYTES / (peer / 1000) / 1e9);
        out.printf(Locale.ROOT, "%-32s %9.1f ms (%.1f..%.1f) %7.2f GB/s%n", "through the client",
            client, throughClient[0], throughClient[REPETITIONS - 1], BYTES / (client / 1000) / 1e9);
        out.printf(Locale.ROOT, "%-32s %9.2fx%n", "server to server speed-up", client / peer);
    }

    private long alloc(final int device)
    {
        current(device);
        check(driver.memory().cuMemAlloc(out.address(), BYTES), "cuMemAlloc");
        return out.getLong(0);
    }

    private void current(final int device)
    {
        check(driver.contexts().cuCtxSetCurrent(contexts[device]), "cuCtxSetCurrent");
    }

    private static GpuServer launch(final Endpoint endpoint, final boolean withToken) throws IOException
    {
        return GpuServer.launch(new GpuServer.Context()
            .endpoint(endpoint)
            .authenticator(withToken ? RemoteSetup.tokenAuthenticator() : TokenAuthenticator.acceptAll())
            .backend(new EmulatedBackend(1, 256L << 20))
            .errorLog(new ServerErrorLog(new PrintStream(OutputStream.nullOutputStream()))));
    }

    private static int freePort() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            return socket.getLocalPort();
        }
    }

    private static void check(final int result, final String call)
    {
        if (result != CuResult.CUDA_SUCCESS)
        {
            throw new IllegalStateException(call + " failed: " + CuResult.describe(result));
        }
    }
}
