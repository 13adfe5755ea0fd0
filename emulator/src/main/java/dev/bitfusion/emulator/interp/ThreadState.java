package dev.bitfusion.emulator.interp;

/**
 * One emulated thread: its registers, position, call stack and stack memory.
 * <p>
 * Thread safety: owned by the host thread running its block.
 */
final class ThreadState
{
    static final int RUNNABLE = 0;
    static final int EXITED = 1;
    static final int WAIT_WARP = 2;
    static final int WAIT_BARRIER = 3;

    long[] registers;
    CompiledFunction function;
    int pc;
    int frameBase;
    int depth;
    int status;
    int linearId;
    /** Host address of this thread's stack (local memory and call frames). */
    long stackHost;

    long[][] savedRegisters = new long[4][];
    CompiledFunction[] savedFunctions = new CompiledFunction[4];
    int[] savedPcs = new int[4];
    int[] savedFrameBases = new int[4];
    int[] savedCallSites = new int[4];
    long[][] framePool = new long[4][];

    void push(final int callSite)
    {
        if (depth + 1 >= savedRegisters.length)
        {
            final int size = savedRegisters.length * 2;
            savedRegisters = java.util.Arrays.copyOf(savedRegisters, size);
            savedFunctions = java.util.Arrays.copyOf(savedFunctions, size);
            savedPcs = java.util.Arrays.copyOf(savedPcs, size);
            savedFrameBases = java.util.Arrays.copyOf(savedFrameBases, size);
            savedCallSites = java.util.Arrays.copyOf(savedCallSites, size);
            framePool = java.util.Arrays.copyOf(framePool, size);
        }
        savedRegisters[depth] = registers;
        savedFunctions[depth] = function;
        savedPcs[depth] = pc;
        savedFrameBases[depth] = frameBase;
        savedCallSites[depth] = callSite;
        depth++;
    }

    long[] frameRegisters(final int size)
    {
        long[] frame = framePool[depth];
        if (frame == null || frame.length < size)
        {
            frame = new long[size];
            framePool[depth] = frame;
        }
        return frame;
    }
}
