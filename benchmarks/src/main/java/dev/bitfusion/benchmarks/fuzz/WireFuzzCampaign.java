package dev.bitfusion.benchmarks.fuzz;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.server.GpuServer;
import dev.bitfusion.server.ServerErrorLog;
import dev.bitfusion.server.backend.emulated.EmulatedBackend;
import dev.bitfusion.transport.Endpoint;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.DatagramSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A fuzz campaign against a real server in this JVM: a {@link WireFuzzer} sends its messages in rounds; after
 * each round it proves every readable request was answered, and a legitimate client (the agent's
 * {@link RemoteDriver}, on a session of its own) allocates, copies both ways, checks and frees. At the end the
 * server must not have failed, must have logged no internal error of a session (an exception that escaped a
 * handler), must hold nothing for the fuzzer's sessions, and its heap and thread count must be back where they
 * were.
 * <p>
 * Thread safety: one thread.
 */
public final class WireFuzzCampaign
{
    /** Messages between two checkpoints. */
    public static final int ROUND = 2_000;
    /** Heap growth, after a full collection, that counts as a leak. */
    public static final long HEAP_GROWTH_LIMIT_BYTES = 64L << 20;
    /** Threads more than at the start that count as a leak. */
    public static final int THREAD_GROWTH_LIMIT = 4;

    /** What a campaign measured and found. */
    public static final class Outcome
    {
        public long messages;
        public double seconds;
        public long legitimateRuns;
        public long legitimateFailures;
        public long heapBeforeBytes;
        public long heapAfterBytes;
        public int threadsBefore;
        public int threadsAfter;
        public int mostThreads;
        public long serverErrorLines;
        public WireFuzzer.Report fuzz;
        public final List<String> findings = new ArrayList<>();

        public double messagesPerSecond()
        {
            return messages / seconds;
        }

        public String summary()
        {
            return String.format(Locale.ROOT,
                "%,d messages (%,d control) in %.1f s: %,.0f messages/s; %,d answers owed, %,d answered, %,d " +
                "asynchronous errors, %,d control replies, %d fuzzer sessions; legitimate runs %d passed, %d failed; " +
                "heap %d -> %d MiB; threads %d -> %d (at most %d); %d server error lines; findings: %s",
                messages, fuzz.controlMessages, seconds, messagesPerSecond(), fuzz.answersExpected, fuzz.answered,
                fuzz.asyncErrors, fuzz.controlReplies, fuzz.sessionsOpened, legitimateRuns - legitimateFailures,
                legitimateFailures, heapBeforeBytes >> 20, heapAfterBytes >> 20, threadsBefore, threadsAfter,
                mostThreads, serverErrorLines, findings.isEmpty() ? "none" : findings);
        }
    }

    /** Keeps the server's error log lines that say a session failed, counts the others. */
    private static final class ServerLogScan extends OutputStream
    {
        final List<String> internalFailures = new ArrayList<>();
        long lines;
        private final StringBuilder line = new StringBuilder();

        public synchronized void write(final int b)
        {
            if (b == '\n')
            {
                lines++;
                final String text = line.toString();
                if (text.contains(") failed: ") && internalFailures.size() < 20)
                {
                    internalFailures.add(text);
                }
                line.setLength(0);
            }
            else if (line.length() < 4096)
            {
                line.append((char)b);
            }
        }

        synchronized List<String> internalFailures()
        {
            return new ArrayList<>(internalFailures);
        }

        synchronized long lines()
        {
            return lines;
        }
    }

    private WireFuzzCampaign()
    {
    }

    /**
     * @param messages how many messages to send.
     * @param seed     makes the run repeatable.
     * @param progress told after each tenth of the run; may be null.
     * @return what the campaign measured and found.
     */
    public static Outcome run(final long messages, final long seed, final PrintStream progress) throws IOException
    {
        final Outcome outcome = new Outcome();
        final ServerLogScan log = new ServerLogScan();
        final Endpoint endpoint = new Endpoint("127.0.0.1", freeUdpPort());
        final GpuServer.Context context = new GpuServer.Context()
            .endpoint(endpoint)
            .backend(new EmulatedBackend(1, 1024L << 20))
            // The control stream's parser is what is fuzzed here, not its rate limit: serve every request.
            .controlRateLimit(1 << 20, 1 << 20)
            .errorLog(new ServerErrorLog(new PrintStream(log, true, StandardCharsets.UTF_8)));
        try (GpuServer server = GpuServer.launch(context);
            RemoteDriver legitimate = new RemoteDriver(
                new ClientSettings().server(endpoint).transport("udp").memoryMb(64).clientId("legitimate"), System.out);
            NativeBuffer out = NativeBuffer.allocate(Long.BYTES);
            NativeBuffer data = NativeBuffer.allocate(256 * 1024);
            NativeBuffer back = NativeBuffer.allocate(256 * 1024))
        {
            check(legitimate.cuInit(0), "cuInit", outcome);
            check(legitimate.contexts().cuDevicePrimaryCtxRetain(out.address(), 0), "cuDevicePrimaryCtxRetain", outcome);
            check(legitimate.contexts().cuCtxSetCurrent(out.getLong(0)), "cuCtxSetCurrent", outcome);
            legitimateRun(legitimate, out, data, back, 0, outcome);
            outcome.heapBeforeBytes = usedHeapAfterGc();
            outcome.threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            outcome.mostThreads = outcome.threadsBefore;

            final long startNs = System.nanoTime();
            try (WireFuzzer fuzzer = new WireFuzzer(endpoint, seed))
            {
                outcome.fuzz = fuzzer.report();
                long nextProgress = messages / 10;
                for (long sent = 0; sent < messages; sent += ROUND)
                {
                    fuzzer.fuzz((int)Math.min(ROUND, messages - sent));
                    fuzzer.checkpoint();
                    legitimateRun(legitimate, out, data, back, sent, outcome);
                    outcome.mostThreads = Math.max(outcome.mostThreads, ManagementFactory.getThreadMXBean().getThreadCount());
                    if (server.failure() != null)
                    {
                        outcome.findings.add("the server failed: " + server.failure());
                        break;
                    }
                    if (progress != null && sent + ROUND >= nextProgress)
                    {
                        progress.printf(Locale.ROOT, "fuzz: %,d messages, %,.0f/s, legitimate runs %d/%d, threads %d%n",
                            sent + ROUND, (sent + ROUND) / ((System.nanoTime() - startNs) / 1e9),
                            outcome.legitimateRuns - outcome.legitimateFailures, outcome.legitimateRuns,
                            ManagementFactory.getThreadMXBean().getThreadCount());
                        nextProgress += messages / 10;
                    }
                }
                outcome.messages = fuzzer.report().messages;
            }
            outcome.seconds = (System.nanoTime() - startNs) / 1e9;
            outcome.findings.addAll(outcome.fuzz.findings);

            // Sessions the fuzzer's SessionOpens made end once their clients never connect; then nothing of
            // the fuzzer's may be left.
            awaitOnlyTheLegitimateSession(endpoint, outcome);
            legitimateRun(legitimate, out, data, back, messages, outcome);
            if (context.hostMemoryBudget().heldBytes() != 0)
            {
                outcome.findings.add("host memory still held for ended sessions: " +
                    context.hostMemoryBudget().heldBytes() + " bytes");
            }
            outcome.heapAfterBytes = usedHeapAfterGc();
            outcome.threadsAfter = ManagementFactory.getThreadMXBean().getThreadCount();
            if (outcome.heapAfterBytes - outcome.heapBeforeBytes > HEAP_GROWTH_LIMIT_BYTES)
            {
                outcome.findings.add("heap grew from " + (outcome.heapBeforeBytes >> 20) + " to " +
                    (outcome.heapAfterBytes >> 20) + " MiB");
            }
            if (outcome.threadsAfter - outcome.threadsBefore > THREAD_GROWTH_LIMIT)
            {
                outcome.findings.add("threads grew from " + outcome.threadsBefore + " to " + outcome.threadsAfter);
            }
            if (server.failure() != null)
            {
                outcome.findings.add("the server failed: " + server.failure());
            }
        }
        for (final String failure : log.internalFailures())
        {
            outcome.findings.add("internal error: " + failure);
        }
        outcome.serverErrorLines = log.lines();
        return outcome;
    }

    private static void legitimateRun(
        final RemoteDriver driver, final NativeBuffer out, final NativeBuffer data, final NativeBuffer back,
        final long salt, final Outcome outcome)
    {
        outcome.legitimateRuns++;
        final long failuresBefore = outcome.findings.size();
        for (int i = 0; i < data.capacity(); i += Long.BYTES)
        {
            data.putLong(i, salt * 31 + i);
        }
        if (!check(driver.memory().cuMemAlloc(out.address(), data.capacity()), "cuMemAlloc", outcome))
        {
            outcome.legitimateFailures++;
            return;
        }
        final long device = out.getLong(0);
        check(driver.memory().cuMemcpyHtoD(device, data.address(), data.capacity()), "cuMemcpyHtoD", outcome);
        check(driver.memory().cuMemcpyDtoH(back.address(), device, back.capacity()), "cuMemcpyDtoH", outcome);
        for (int i = 0; i < data.capacity(); i += Long.BYTES)
        {
            if (data.getLong(i) != back.getLong(i))
            {
                outcome.findings.add("the legitimate client read back other bytes at offset " + i);
                break;
            }
        }
        check(driver.memory().cuMemFree(device), "cuMemFree", outcome);
        check(driver.contexts().cuCtxSynchronize(), "cuCtxSynchronize", outcome);
        if (outcome.findings.size() != failuresBefore)
        {
            outcome.legitimateFailures++;
        }
    }

    private static boolean check(final int result, final String call, final Outcome outcome)
    {
        if (result != CuResult.CUDA_SUCCESS)
        {
            outcome.findings.add("legitimate " + call + " failed: " + CuResult.describe(result));
            return false;
        }
        return true;
    }

    private static void awaitOnlyTheLegitimateSession(final Endpoint endpoint, final Outcome outcome)
    {
        final long deadlineNs = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        GpuPoolInfo pool = null;
        while (System.nanoTime() < deadlineNs)
        {
            try
            {
                pool = PoolQuery.listGpus(endpoint, TimeUnit.SECONDS.toNanos(5));
                if (pool.openSessions() == 1)
                {
                    return;
                }
            }
            catch (final RuntimeException ex)
            {
                outcome.findings.add("a legitimate list_gpus failed: " + ex.getMessage());
            }
            sleep(500);
        }
        outcome.findings.add("sessions the fuzzer opened never ended: " + pool);
    }

    private static long usedHeapAfterGc()
    {
        for (int i = 0; i < 3; i++)
        {
            System.gc();
            sleep(100);
        }
        final Runtime runtime = Runtime.getRuntime();
        return runtime.totalMemory() - runtime.freeMemory();
    }

    private static void sleep(final long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    private static int freeUdpPort() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            return socket.getLocalPort();
        }
    }
}
