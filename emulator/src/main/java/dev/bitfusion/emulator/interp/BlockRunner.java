package dev.bitfusion.emulator.interp;

import dev.bitfusion.emulator.memory.DeviceMemory;
import org.agrona.UnsafeApi;

/**
 * Runs whole blocks on one host thread. Kernels without collectives run thread after thread; kernels
 * with barriers, shuffles or votes run each thread until it reaches one, and the collective is resolved
 * once every thread it waits for has arrived, so barrier and warp-synchronous semantics hold.
 * <p>
 * Thread safety: one runner per host worker thread; owns its shared and stack memory until {@link #close()}.
 */
final class BlockRunner implements AutoCloseable
{
    private static final int WARP = 32;
    private static final int BARRIERS = 16;

    private final CompiledFunction entry;
    private final LaunchContext launch;
    private final Interpreter interpreter;
    private final int threadsPerBlock;
    private final ThreadState[] threads;
    private final long sharedArea;
    private final long stackArea;
    private final int[] group = new int[WARP];
    private final long[] values = new long[WARP];
    private final boolean[] flags = new boolean[WARP];
    private final int[] arrived = new int[BARRIERS];
    private final int[] expected = new int[BARRIERS];

    BlockRunner(final CompiledFunction entry, final LaunchContext launch, final DeviceMemory memory)
    {
        this.entry = entry;
        this.launch = launch;
        this.interpreter = new Interpreter(memory, launch);
        this.threadsPerBlock = launch.blockX * launch.blockY * launch.blockZ;
        final int stateCount = entry.collective ? threadsPerBlock : 1;
        threads = new ThreadState[stateCount];
        for (int i = 0; i < stateCount; i++)
        {
            threads[i] = new ThreadState();
            threads[i].registers = new long[entry.registerTemplate.length];
        }
        sharedArea = UnsafeApi.allocateMemory(Math.max(1, launch.sharedBytes));
        UnsafeApi.setMemory(sharedArea, Math.max(1, launch.sharedBytes), (byte)0);
        interpreter.sharedHost = sharedArea;
        interpreter.sharedSize = launch.sharedBytes;
        stackArea = UnsafeApi.allocateMemory(Math.max(16, (long)launch.stackBytes * stateCount));
    }

    long instructions()
    {
        return interpreter.instructions;
    }

    void runBlock(final int blockIndex)
    {
        final int ctaX = blockIndex % launch.gridX;
        final int ctaY = (blockIndex / launch.gridX) % launch.gridY;
        final int ctaZ = blockIndex / (launch.gridX * launch.gridY);
        if (!entry.collective)
        {
            final ThreadState t = threads[0];
            for (int linear = 0; linear < threadsPerBlock; linear++)
            {
                start(t, linear, ctaX, ctaY, ctaZ, 0);
                interpreter.run(t);
            }
            return;
        }
        for (int linear = 0; linear < threadsPerBlock; linear++)
        {
            start(threads[linear], linear, ctaX, ctaY, ctaZ, linear);
        }
        schedule();
    }

    private void start(
        final ThreadState t, final int linear, final int ctaX, final int ctaY, final int ctaZ, final int stackSlot)
    {
        final long[] r = t.registers;
        final long[] template = entry.registerTemplate;
        System.arraycopy(template, 0, r, 0, template.length);
        final int lane = linear % WARP;
        r[Op.SLOT_TID_X] = linear % launch.blockX;
        r[Op.SLOT_TID_Y] = (linear / launch.blockX) % launch.blockY;
        r[Op.SLOT_TID_Z] = linear / (launch.blockX * launch.blockY);
        r[Op.SLOT_NTID_X] = launch.blockX;
        r[Op.SLOT_NTID_Y] = launch.blockY;
        r[Op.SLOT_NTID_Z] = launch.blockZ;
        r[Op.SLOT_CTAID_X] = ctaX;
        r[Op.SLOT_CTAID_Y] = ctaY;
        r[Op.SLOT_CTAID_Z] = ctaZ;
        r[Op.SLOT_NCTAID_X] = launch.gridX;
        r[Op.SLOT_NCTAID_Y] = launch.gridY;
        r[Op.SLOT_NCTAID_Z] = launch.gridZ;
        r[Op.SLOT_LANEID] = lane;
        r[Op.SLOT_WARPID] = linear / WARP;
        r[Op.SLOT_NWARPID] = (threadsPerBlock + WARP - 1) / WARP;
        r[Op.SLOT_NSMID] = 1;
        r[Op.SLOT_LANEMASK_EQ] = 1L << lane;
        r[Op.SLOT_LANEMASK_LT] = (1L << lane) - 1;
        r[Op.SLOT_LANEMASK_LE] = (int)((2L << lane) - 1);
        r[Op.SLOT_LANEMASK_GT] = (int)~((2L << lane) - 1);
        r[Op.SLOT_LANEMASK_GE] = (int)~((1L << lane) - 1);
        r[Op.SLOT_DYNAMIC_SHARED_BASE] = launch.dynamicSharedBase;
        r[Op.SLOT_RESERVED_SHARED] = launch.sharedBytes - Op.RESERVED_SHARED_BYTES;
        r[Op.SLOT_DYNAMIC_SMEM_SIZE] = launch.dynamicSharedBytes;
        r[Op.SLOT_TOTAL_SMEM_SIZE] = launch.sharedBytes;
        t.function = entry;
        t.pc = 0;
        t.frameBase = 0;
        t.depth = 0;
        t.linearId = linear;
        t.status = ThreadState.RUNNABLE;
        t.stackHost = stackArea + (long)stackSlot * launch.stackBytes;
    }

    private void schedule()
    {
        final int n = threadsPerBlock;
        while (true)
        {
            for (int i = 0; i < n; i++)
            {
                final ThreadState t = threads[i];
                if (t.status == ThreadState.RUNNABLE)
                {
                    t.status = interpreter.run(t);
                }
            }
            if (resolveWarps(false))
            {
                continue;
            }
            int live = 0;
            int atBarrier = 0;
            int atWarp = 0;
            for (int i = 0; i < n; i++)
            {
                final int status = threads[i].status;
                if (status != ThreadState.EXITED)
                {
                    live++;
                    atBarrier += status == ThreadState.WAIT_BARRIER ? 1 : 0;
                    atWarp += status == ThreadState.WAIT_WARP ? 1 : 0;
                }
            }
            if (live == 0)
            {
                return;
            }
            if (atBarrier > 0 && releaseBarriers(live, false))
            {
                continue;
            }
            if (atWarp > 0 && resolveWarps(true))
            {
                continue;
            }
            // Nothing can progress as written (a divergent barrier): release every waiter rather than hang.
            releaseBarriers(live, true);
        }
    }

    /**
     * Release each barrier whose expected threads have all arrived: its thread count when the barrier
     * names one, else every live thread of the block.
     *
     * @param live  threads of the block that have not exited.
     * @param force release every waiting thread regardless.
     * @return whether any thread was released.
     */
    private boolean releaseBarriers(final int live, final boolean force)
    {
        java.util.Arrays.fill(arrived, 0);
        java.util.Arrays.fill(expected, 0);
        for (int i = 0; i < threadsPerBlock; i++)
        {
            final ThreadState t = threads[i];
            if (t.status == ThreadState.WAIT_BARRIER)
            {
                final int[] code = t.function.code;
                final int id = (int)t.registers[code[t.pc + 4]] & (BARRIERS - 1);
                arrived[id]++;
                expected[id] = code[t.pc + 5] >= 0 ? (int)t.registers[code[t.pc + 5]] : live;
            }
        }
        boolean released = false;
        for (int id = 0; id < BARRIERS; id++)
        {
            if (arrived[id] > 0 && (force || arrived[id] >= Math.min(expected[id], live)))
            {
                release(id);
                released = true;
            }
        }
        return released;
    }

    private void release(final int barrier)
    {
        int count = 0;
        boolean all = true;
        boolean any = false;
        for (int i = 0; i < threadsPerBlock; i++)
        {
            final ThreadState t = threads[i];
            if (t.status == ThreadState.WAIT_BARRIER && barrierOf(t) == barrier)
            {
                final int[] code = t.function.code;
                if (code[t.pc + 1] != Op.BAR_SYNC)
                {
                    final boolean p = t.registers[code[t.pc + 3]] != 0;
                    count += p ? 1 : 0;
                    all &= p;
                    any |= p;
                }
            }
        }
        for (int i = 0; i < threadsPerBlock; i++)
        {
            final ThreadState t = threads[i];
            if (t.status == ThreadState.WAIT_BARRIER && barrierOf(t) == barrier)
            {
                final int[] code = t.function.code;
                switch (code[t.pc + 1])
                {
                    case Op.BAR_RED_POPC -> t.registers[code[t.pc + 2]] = count;
                    case Op.BAR_RED_AND -> t.registers[code[t.pc + 2]] = all ? 1 : 0;
                    case Op.BAR_RED_OR -> t.registers[code[t.pc + 2]] = any ? 1 : 0;
                    default ->
                    {
                        // plain bar.sync has no result
                    }
                }
                t.pc += Op.STRIDE;
                t.status = ThreadState.RUNNABLE;
            }
        }
    }

    /**
     * Resolve the warp collectives whose participants have all arrived.
     *
     * @param lenient resolve with whichever lanes have arrived (the block cannot progress otherwise).
     * @return whether any collective was resolved.
     */
    private boolean resolveWarps(final boolean lenient)
    {
        boolean progress = false;
        for (int warpStart = 0; warpStart < threadsPerBlock; warpStart += WARP)
        {
            final int warpEnd = Math.min(threadsPerBlock, warpStart + WARP);
            int waiting = 0;
            int exited = 0;
            for (int i = warpStart; i < warpEnd; i++)
            {
                waiting |= threads[i].status == ThreadState.WAIT_WARP ? 1 << (i - warpStart) : 0;
                exited |= threads[i].status == ThreadState.EXITED ? 1 << (i - warpStart) : 0;
            }
            while (waiting != 0)
            {
                final int first = Integer.numberOfTrailingZeros(waiting);
                final ThreadState leader = threads[warpStart + first];
                final int op = leader.function.code[leader.pc];
                int members = 0;
                int requested;
                if (op == Op.ACTIVEMASK)
                {
                    for (int lane = first; lane < WARP; lane++)
                    {
                        if ((waiting & (1 << lane)) != 0)
                        {
                            final ThreadState t = threads[warpStart + lane];
                            if (t.function == leader.function && t.pc == leader.pc)
                            {
                                members |= 1 << lane;
                            }
                        }
                    }
                    requested = members;
                }
                else
                {
                    requested = (int)leader.registers[maskSlot(leader)];
                    for (int lane = first; lane < WARP; lane++)
                    {
                        if ((waiting & (1 << lane)) != 0)
                        {
                            final ThreadState t = threads[warpStart + lane];
                            if (t.function.code[t.pc] == op && (int)t.registers[maskSlot(t)] == requested)
                            {
                                members |= 1 << lane;
                            }
                        }
                    }
                }
                final int missing = requested & ~members & ~exited & (int)((1L << (warpEnd - warpStart)) - 1);
                waiting &= ~members;
                if (missing != 0 && !lenient)
                {
                    continue;
                }
                perform(warpStart, members, op);
                progress = true;
            }
        }
        return progress;
    }

    private static int barrierOf(final ThreadState t)
    {
        return (int)t.registers[t.function.code[t.pc + 4]] & (BARRIERS - 1);
    }

    private static int maskSlot(final ThreadState t)
    {
        final int[] code = t.function.code;
        return switch (code[t.pc])
        {
            case Op.SHFL -> code[t.pc + 6];
            default -> code[t.pc + 3];
        };
    }

    private void perform(final int warpStart, final int members, final int op)
    {
        int count = 0;
        for (int lane = 0; lane < WARP; lane++)
        {
            if ((members & (1 << lane)) != 0)
            {
                group[count++] = lane;
            }
        }
        switch (op)
        {
            case Op.SHFL -> shuffle(warpStart, count);
            case Op.VOTE -> vote(warpStart, count, members);
            case Op.ACTIVEMASK ->
            {
                for (int k = 0; k < count; k++)
                {
                    final ThreadState t = threads[warpStart + group[k]];
                    t.registers[t.function.code[t.pc + 1]] = members;
                }
            }
            case Op.REDUX -> redux(warpStart, count);
            default -> match(warpStart, count, members);
        }
        for (int k = 0; k < count; k++)
        {
            final ThreadState t = threads[warpStart + group[k]];
            t.pc += Op.STRIDE;
            t.status = ThreadState.RUNNABLE;
        }
    }

    private void shuffle(final int warpStart, final int count)
    {
        final int warpSize = Math.min(WARP, threadsPerBlock - warpStart);
        for (int k = 0; k < count; k++)
        {
            final int lane = group[k];
            final ThreadState t = threads[warpStart + lane];
            final int[] code = t.function.code;
            final long[] r = t.registers;
            final int b = (int)r[code[t.pc + 4]] & 0x1F;
            final int c = (int)r[code[t.pc + 5]];
            final int clamp = c & 0x1F;
            final int segmentMask = (c >>> 8) & 0x1F;
            final int maxLane = (lane & segmentMask) | (clamp & ~segmentMask);
            final int minLane = lane & segmentMask;
            int source;
            boolean valid;
            switch (code[t.pc + 7])
            {
                case Op.SHFL_UP ->
                {
                    source = lane - b;
                    valid = source >= maxLane;
                }
                case Op.SHFL_DOWN ->
                {
                    source = lane + b;
                    valid = source <= maxLane;
                }
                case Op.SHFL_BFLY ->
                {
                    source = lane ^ b;
                    valid = source <= maxLane;
                }
                default ->
                {
                    source = minLane | (b & ~segmentMask);
                    valid = source <= maxLane;
                }
            }
            if (!valid || source >= warpSize)
            {
                source = lane;
            }
            values[k] = threads[warpStart + source].registers[code[t.pc + 3]];
            flags[k] = valid;
        }
        for (int k = 0; k < count; k++)
        {
            final ThreadState t = threads[warpStart + group[k]];
            final int[] code = t.function.code;
            t.registers[code[t.pc + 1]] = (int)values[k];
            if (code[t.pc + 2] >= 0)
            {
                t.registers[code[t.pc + 2]] = flags[k] ? 1 : 0;
            }
        }
    }

    private void vote(final int warpStart, final int count, final int members)
    {
        int ballot = 0;
        for (int k = 0; k < count; k++)
        {
            final ThreadState t = threads[warpStart + group[k]];
            if (t.registers[t.function.code[t.pc + 2]] != 0)
            {
                ballot |= 1 << group[k];
            }
        }
        for (int k = 0; k < count; k++)
        {
            final ThreadState t = threads[warpStart + group[k]];
            final int[] code = t.function.code;
            final long result = switch (code[t.pc + 4])
            {
                case Op.VOTE_ALL -> ballot == members ? 1 : 0;
                case Op.VOTE_ANY -> ballot != 0 ? 1 : 0;
                case Op.VOTE_UNI -> ballot == 0 || ballot == members ? 1 : 0;
                case Op.VOTE_BALLOT -> ballot;
                default -> t.registers[code[t.pc + 1]];
            };
            t.registers[code[t.pc + 1]] = result;
        }
    }

    private void redux(final int warpStart, final int count)
    {
        final ThreadState leader = threads[warpStart + group[0]];
        final int kind = leader.function.code[leader.pc + 4];
        final int operation = kind & 0xFF;
        final boolean signed = (kind >>> 8) == Op.T_S32;
        int result = 0;
        for (int k = 0; k < count; k++)
        {
            final ThreadState t = threads[warpStart + group[k]];
            final int v = (int)t.registers[t.function.code[t.pc + 2]];
            if (k == 0)
            {
                result = v;
                continue;
            }
            result = switch (operation)
            {
                case Op.ATOM_ADD -> result + v;
                case Op.ATOM_MIN -> signed ? Math.min(result, v) : (Integer.compareUnsigned(result, v) <= 0 ? result : v);
                case Op.ATOM_MAX -> signed ? Math.max(result, v) : (Integer.compareUnsigned(result, v) >= 0 ? result : v);
                case Op.ATOM_AND -> result & v;
                case Op.ATOM_OR -> result | v;
                default -> result ^ v;
            };
        }
        for (int k = 0; k < count; k++)
        {
            final ThreadState t = threads[warpStart + group[k]];
            t.registers[t.function.code[t.pc + 1]] = result;
        }
    }

    private void match(final int warpStart, final int count, final int members)
    {
        for (int k = 0; k < count; k++)
        {
            final ThreadState t = threads[warpStart + group[k]];
            final int[] code = t.function.code;
            final long mine = t.registers[code[t.pc + 2]];
            final boolean wide = code[t.pc + 6] == 1;
            int same = 0;
            for (int m = 0; m < count; m++)
            {
                final ThreadState other = threads[warpStart + group[m]];
                final long theirs = other.registers[other.function.code[other.pc + 2]];
                if (wide ? theirs == mine : (int)theirs == (int)mine)
                {
                    same |= 1 << group[m];
                }
            }
            values[k] = same;
        }
        for (int k = 0; k < count; k++)
        {
            final ThreadState t = threads[warpStart + group[k]];
            final int[] code = t.function.code;
            if (code[t.pc + 4] == 1)
            {
                final boolean all = (int)values[k] == members;
                t.registers[code[t.pc + 1]] = all ? members : 0;
                if (code[t.pc + 5] >= 0)
                {
                    t.registers[code[t.pc + 5]] = all ? 1 : 0;
                }
            }
            else
            {
                t.registers[code[t.pc + 1]] = (int)values[k];
            }
        }
    }

    public void close()
    {
        UnsafeApi.freeMemory(sharedArea);
        UnsafeApi.freeMemory(stackArea);
    }
}
