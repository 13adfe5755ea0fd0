package dev.bitfusion.emulator.interp;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The host threads that run blocks in parallel, shared by every launch in the process.
 * <p>
 * Thread safety: the executor is thread safe; threads are daemons so they never keep a JVM alive.
 */
final class WorkerPool
{
    static final int PARALLELISM = Math.max(1, Runtime.getRuntime().availableProcessors());

    static final ExecutorService EXECUTOR = Executors.newCachedThreadPool(runnable ->
    {
        final Thread thread = new Thread(runnable, "bitfusion-emulator-worker");
        thread.setDaemon(true);
        return thread;
    });

    private WorkerPool()
    {
    }
}
