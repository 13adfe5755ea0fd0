package dev.bitfusion.emulator.interp;

import dev.bitfusion.emulator.memory.DeviceMemory;
import org.agrona.UnsafeApi;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_ASSERT;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_ILLEGAL_ADDRESS;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_LAUNCH_FAILED;

/**
 * Executes decoded instructions for one thread at a time until it exits or reaches a warp or block
 * collective (shuffle, vote, barrier), which {@link BlockRunner} resolves across threads.
 * <p>
 * Registers hold raw bits: 32-bit values in the low half (readers cast), f32 as its int bits, f64 as its
 * long bits, predicates as 0 or 1.
 * <p>
 * Thread safety: one interpreter per host worker thread.
 */
final class Interpreter
{
    private final DeviceMemory memory;
    private final LaunchContext launch;

    private long cacheStart = 1;
    private long cacheEnd = 0;
    private long cacheDelta;

    long sharedHost;
    long sharedSize;
    long instructions;

    Interpreter(final DeviceMemory memory, final LaunchContext launch)
    {
        this.memory = memory;
        this.launch = launch;
    }

    /**
     * Run a thread until it exits or blocks at a collective.
     *
     * @param t the thread.
     * @return {@link ThreadState#EXITED}, {@link ThreadState#WAIT_WARP} or {@link ThreadState#WAIT_BARRIER}.
     */
    int run(final ThreadState t)
    {
        int[] code = t.function.code;
        long[] r = t.registers;
        int pc = t.pc;
        long executed = 0;
        try
        {
            while (true)
            {
                executed++;
                switch (code[pc])
                {
                    case Op.NOP -> pc += Op.STRIDE;
                    case Op.MOV ->
                    {
                        r[code[pc + 1]] = r[code[pc + 2]];
                        pc += Op.STRIDE;
                    }
                    case Op.ADD_I32 ->
                    {
                        r[code[pc + 1]] = (int)r[code[pc + 2]] + (int)r[code[pc + 3]];
                        pc += Op.STRIDE;
                    }
                    case Op.ADD_I64 ->
                    {
                        r[code[pc + 1]] = r[code[pc + 2]] + r[code[pc + 3]];
                        pc += Op.STRIDE;
                    }
                    case Op.MAD_LO_I32 ->
                    {
                        r[code[pc + 1]] = (int)r[code[pc + 2]] * (int)r[code[pc + 3]] + (int)r[code[pc + 4]];
                        pc += Op.STRIDE;
                    }
                    case Op.MUL_WIDE_S32 ->
                    {
                        r[code[pc + 1]] = (long)(int)r[code[pc + 2]] * (int)r[code[pc + 3]];
                        pc += Op.STRIDE;
                    }
                    case Op.SETP ->
                    {
                        final int cmp = code[pc + 4];
                        final boolean result = compare(cmp & 0xFF, cmp >>> 8, r[code[pc + 2]], r[code[pc + 3]]);
                        if (code[pc + 5] < 0 && code[pc + 6] < 0)
                        {
                            r[code[pc + 1]] = result ? 1 : 0;
                        }
                        else
                        {
                            setPredicate(r, code, pc, result);
                        }
                        pc += Op.STRIDE;
                    }
                    case Op.BRA -> pc = code[pc + 1];
                    case Op.BRA_IF -> pc = r[code[pc + 2]] != 0 ? code[pc + 1] : pc + Op.STRIDE;
                    case Op.BRA_IFNOT -> pc = r[code[pc + 2]] == 0 ? code[pc + 1] : pc + Op.STRIDE;
                    case Op.LDG_32 ->
                    {
                        final long address = r[code[pc + 2]] + r[code[pc + 3]];
                        final long host = address >= cacheStart && address + 4 <= cacheEnd ?
                            address + cacheDelta : global(address, 4);
                        r[code[pc + 1]] = UnsafeApi.getInt(host);
                        pc += Op.STRIDE;
                    }
                    case Op.LDG_64 ->
                    {
                        final long address = r[code[pc + 2]] + r[code[pc + 3]];
                        final long host = address >= cacheStart && address + 8 <= cacheEnd ?
                            address + cacheDelta : global(address, 8);
                        r[code[pc + 1]] = UnsafeApi.getLong(host);
                        pc += Op.STRIDE;
                    }
                    case Op.STG_32 ->
                    {
                        final long address = r[code[pc + 1]] + r[code[pc + 2]];
                        final long host = address >= cacheStart && address + 4 <= cacheEnd ?
                            address + cacheDelta : global(address, 4);
                        UnsafeApi.putInt(host, (int)r[code[pc + 3]]);
                        pc += Op.STRIDE;
                    }
                    case Op.STG_64 ->
                    {
                        final long address = r[code[pc + 1]] + r[code[pc + 2]];
                        final long host = address >= cacheStart && address + 8 <= cacheEnd ?
                            address + cacheDelta : global(address, 8);
                        UnsafeApi.putLong(host, r[code[pc + 3]]);
                        pc += Op.STRIDE;
                    }
                    case Op.LD ->
                    {
                        final int size = code[pc + 4];
                        final long host = resolve(t, code[pc + 5], r[code[pc + 2]] + r[code[pc + 3]], sizeBytes(size));
                        r[code[pc + 1]] = switch (size)
                        {
                            case Op.SIZE_U8 -> UnsafeApi.getByte(host) & 0xFF;
                            case Op.SIZE_S8 -> UnsafeApi.getByte(host);
                            case Op.SIZE_U16 -> UnsafeApi.getShort(host) & 0xFFFF;
                            case Op.SIZE_S16 -> UnsafeApi.getShort(host);
                            case Op.SIZE_32 -> UnsafeApi.getInt(host);
                            default -> UnsafeApi.getLong(host);
                        };
                        pc += Op.STRIDE;
                    }
                    case Op.ST ->
                    {
                        final int size = code[pc + 4];
                        final long host = resolve(t, code[pc + 5], r[code[pc + 1]] + r[code[pc + 2]], sizeBytes(size));
                        final long value = r[code[pc + 3]];
                        switch (size)
                        {
                            case Op.SIZE_U8, Op.SIZE_S8 -> UnsafeApi.putByte(host, (byte)value);
                            case Op.SIZE_U16, Op.SIZE_S16 -> UnsafeApi.putShort(host, (short)value);
                            case Op.SIZE_32 -> UnsafeApi.putInt(host, (int)value);
                            default -> UnsafeApi.putLong(host, value);
                        }
                        pc += Op.STRIDE;
                    }
                    case Op.ADD_F32 ->
                    {
                        r[code[pc + 1]] = Float.floatToRawIntBits(f(r[code[pc + 2]]) + f(r[code[pc + 3]]));
                        pc += Op.STRIDE;
                    }
                    case Op.MUL_F32 ->
                    {
                        r[code[pc + 1]] = Float.floatToRawIntBits(f(r[code[pc + 2]]) * f(r[code[pc + 3]]));
                        pc += Op.STRIDE;
                    }
                    case Op.FMA_F32 ->
                    {
                        r[code[pc + 1]] = Float.floatToRawIntBits(
                            Math.fma(f(r[code[pc + 2]]), f(r[code[pc + 3]]), f(r[code[pc + 4]])));
                        pc += Op.STRIDE;
                    }
                    case Op.SHL_32 ->
                    {
                        final long n = r[code[pc + 3]] & 0xFFFF_FFFFL;
                        r[code[pc + 1]] = n > 31 ? 0 : (int)r[code[pc + 2]] << n;
                        pc += Op.STRIDE;
                    }
                    case Op.RET ->
                    {
                        if (t.depth == 0)
                        {
                            return finish(t, pc, executed, ThreadState.EXITED);
                        }
                        final CompiledFunction callee = t.function;
                        t.depth--;
                        final int depth = t.depth;
                        final CompiledFunction.CallSite site = t.savedFunctions[depth].callSites[t.savedCallSites[depth]];
                        if (site.returnOffset >= 0 && callee.returnOffset >= 0)
                        {
                            UnsafeApi.copyMemory(t.stackHost + t.frameBase + callee.returnOffset,
                                t.stackHost + t.savedFrameBases[depth] + site.returnOffset,
                                Math.min(site.returnSize, callee.returnSize));
                        }
                        t.function = t.savedFunctions[depth];
                        t.registers = t.savedRegisters[depth];
                        t.frameBase = t.savedFrameBases[depth];
                        code = t.function.code;
                        r = t.registers;
                        pc = t.savedPcs[depth] + Op.STRIDE;
                    }
                    case Op.EXIT ->
                    {
                        return finish(t, pc, executed, ThreadState.EXITED);
                    }
                    case Op.BAR ->
                    {
                        return finish(t, pc, executed, ThreadState.WAIT_BARRIER);
                    }
                    case Op.SHFL, Op.VOTE, Op.ACTIVEMASK, Op.REDUX, Op.MATCH ->
                    {
                        return finish(t, pc, executed, ThreadState.WAIT_WARP);
                    }
                    case Op.CALL ->
                    {
                        final CompiledFunction.CallSite site = t.function.callSites[code[pc + 1]];
                        final CompiledFunction callee = site.callee;
                        final int calleeBase = t.frameBase + t.function.frameSize;
                        if (calleeBase + callee.frameSize > launch.stackBytes)
                        {
                            throw new KernelFault(CUDA_ERROR_LAUNCH_FAILED, "call stack overflow calling " + callee.name);
                        }
                        for (int i = 0; i < site.argumentOffsets.length && i < callee.formalOffsets.length; i++)
                        {
                            UnsafeApi.copyMemory(t.stackHost + t.frameBase + site.argumentOffsets[i],
                                t.stackHost + calleeBase + callee.formalOffsets[i],
                                Math.min(site.argumentSizes[i], callee.formalSizes[i]));
                        }
                        t.pc = pc;
                        t.push(code[pc + 1]);
                        final long[] frame = t.frameRegisters(callee.registerTemplate.length);
                        System.arraycopy(callee.registerTemplate, 0, frame, 0, callee.registerTemplate.length);
                        System.arraycopy(r, 0, frame, 0, Op.SPECIAL_SLOTS);
                        t.function = callee;
                        t.registers = frame;
                        t.frameBase = calleeBase;
                        code = callee.code;
                        r = frame;
                        pc = 0;
                    }
                    default ->
                    {
                        execute(t, code, r, pc);
                        pc += Op.STRIDE;
                    }
                }
            }
        }
        catch (final KernelFault fault)
        {
            t.pc = pc;
            instructions += executed;
            throw fault.getMessage() != null && fault.getMessage().contains(" at line ") ? fault :
                new KernelFault(fault.cudaError, fault.getMessage() + " in " + t.function.name + " at line " +
                t.function.lines[pc / Op.STRIDE]);
        }
    }

    private int finish(final ThreadState t, final int pc, final long executed, final int status)
    {
        t.pc = pc;
        instructions += executed;
        return status;
    }

    /** The less frequent instructions, kept out of the hot switch so it stays small. */
    private void execute(final ThreadState t, final int[] code, final long[] r, final int pc)
    {
        final int d = code[pc + 1];
        switch (code[pc])
        {
            case Op.MOV_FRAME -> r[d] = t.frameBase + code[pc + 2];
            case Op.CLOCK -> r[d] = System.nanoTime();
            case Op.GLOBALTIMER -> r[d] = System.currentTimeMillis() * 1_000_000L;
            case Op.TRAP -> throw new KernelFault(CUDA_ERROR_LAUNCH_FAILED, "trap");
            case Op.VPRINTF -> printf(t, code, r, pc);
            case Op.ASSERTFAIL ->
            {
                final String message = code[pc + 1] >= 0 ? cString(t, frameLong(t, code[pc + 1])) : "";
                final String file = code[pc + 2] >= 0 ? cString(t, frameLong(t, code[pc + 2])) : "";
                final int assertLine = code[pc + 3] >= 0 ? UnsafeApi.getInt(frame(t, code[pc + 3], 4)) : 0;
                launch.print(file + ":" + assertLine + ": Assertion `" + message + "` failed.\n");
                throw new KernelFault(CUDA_ERROR_ASSERT, "device assert: " + message);
            }
            default -> executeRegisters(t, code, r, pc, d);
        }
    }

    private void executeRegisters(final ThreadState t, final int[] code, final long[] r, final int pc, final int d)
    {
        final long a = r[code[pc + 2]];
        final long b = r[code[pc + 3]];
        switch (code[pc])
        {
            case Op.PACK64 -> r[d] = (a & 0xFFFF_FFFFL) | (b << 32);
            case Op.UNPACK64 ->
            {
                final long v = r[code[pc + 3]];
                r[d] = (int)v;
                r[code[pc + 2]] = (int)(v >>> 32);
            }
            case Op.PACK32 -> r[d] = (int)((a & 0xFFFF) | ((b & 0xFFFF) << 16));
            case Op.UNPACK32 ->
            {
                final long v = r[code[pc + 3]];
                r[d] = v & 0xFFFF;
                r[code[pc + 2]] = (v >>> 16) & 0xFFFF;
            }
            case Op.EXT16_S -> r[d] = (short)a;
            case Op.EXT16_U -> r[d] = a & 0xFFFF;
            case Op.EXT32_U -> r[d] = a & 0xFFFF_FFFFL;
            case Op.SUB_I32 -> r[d] = (int)a - (int)b;
            case Op.MUL_LO_I32 -> r[d] = (int)a * (int)b;
            case Op.MUL_HI_S32 -> r[d] = (int)(((long)(int)a * (int)b) >> 32);
            case Op.MUL_HI_U32 -> r[d] = (int)(((a & 0xFFFF_FFFFL) * (b & 0xFFFF_FFFFL)) >>> 32);
            case Op.MUL_WIDE_U32 -> r[d] = (a & 0xFFFF_FFFFL) * (b & 0xFFFF_FFFFL);
            case Op.MAD_HI_S32 -> r[d] = (int)(((long)(int)a * (int)b) >> 32) + (int)r[code[pc + 4]];
            case Op.MAD_HI_U32 -> r[d] = (int)(((a & 0xFFFF_FFFFL) * (b & 0xFFFF_FFFFL)) >>> 32) + (int)r[code[pc + 4]];
            case Op.MAD_WIDE_S32 -> r[d] = (long)(int)a * (int)b + r[code[pc + 4]];
            case Op.MAD_WIDE_U32 -> r[d] = (a & 0xFFFF_FFFFL) * (b & 0xFFFF_FFFFL) + r[code[pc + 4]];
            case Op.DIV_S32 -> r[d] = (int)b == 0 ? -1 : (int)a / (int)b;
            case Op.DIV_U32 -> r[d] = (int)b == 0 ? -1 : Integer.divideUnsigned((int)a, (int)b);
            case Op.REM_S32 -> r[d] = (int)b == 0 ? (int)a : (int)a % (int)b;
            case Op.REM_U32 -> r[d] = (int)b == 0 ? (int)a : Integer.remainderUnsigned((int)a, (int)b);
            case Op.MIN_S32 -> r[d] = Math.min((int)a, (int)b);
            case Op.MIN_U32 -> r[d] = Integer.compareUnsigned((int)a, (int)b) <= 0 ? (int)a : (int)b;
            case Op.MAX_S32 -> r[d] = Math.max((int)a, (int)b);
            case Op.MAX_U32 -> r[d] = Integer.compareUnsigned((int)a, (int)b) >= 0 ? (int)a : (int)b;
            case Op.ABS_S32 -> r[d] = Math.abs((int)a);
            case Op.NEG_I32 -> r[d] = -(int)a;
            case Op.SHR_U32 ->
            {
                final long n = b & 0xFFFF_FFFFL;
                r[d] = n > 31 ? 0 : (int)a >>> n;
            }
            case Op.SHR_S32 ->
            {
                final long n = b & 0xFFFF_FFFFL;
                r[d] = (int)a >> (n > 31 ? 31 : n);
            }
            case Op.POPC_32 -> r[d] = Integer.bitCount((int)a);
            case Op.CLZ_32 -> r[d] = Integer.numberOfLeadingZeros((int)a);
            case Op.BREV_32 -> r[d] = Integer.reverse((int)a);
            case Op.BFE_U32, Op.BFE_S32 -> r[d] = (int)bfe(a & 0xFFFF_FFFFL, b, r[code[pc + 4]], 32,
                code[pc] == Op.BFE_S32);
            case Op.BFI_32 -> r[d] = (int)bfi(a, b, r[code[pc + 4]], r[code[pc + 5]], 32);
            case Op.PRMT -> r[d] = prmt((int)a, (int)b, (int)r[code[pc + 4]]);
            case Op.ADD_SAT_S32 -> r[d] = (int)Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE,
                (long)(int)a + (int)b));
            case Op.SUB_SAT_S32 -> r[d] = (int)Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE,
                (long)(int)a - (int)b));
            case Op.BFIND ->
            {
                final int mode = code[pc + 3];
                final int bits = (mode & 1) != 0 ? 64 : 32;
                long v = bits == 32 ? ((mode & 2) != 0 ? (int)a : a & 0xFFFF_FFFFL) : a;
                if ((mode & 2) != 0 && v < 0)
                {
                    v = ~v;
                }
                if (bits == 32)
                {
                    v &= 0xFFFF_FFFFL;
                }
                final int position = v == 0 ? -1 : 63 - Long.numberOfLeadingZeros(v);
                r[d] = position < 0 ? 0xFFFF_FFFFL : (mode & 4) != 0 ? bits - 1 - position : position;
            }
            case Op.SHF ->
            {
                final int mode = code[pc + 5];
                final long shift = r[code[pc + 4]] & 0xFFFF_FFFFL;
                final int n = (mode & 2) != 0 ? (int)(shift & 31) : (int)Math.min(shift, 32);
                final long joined = (b << 32) | (a & 0xFFFF_FFFFL);
                r[d] = (mode & 1) != 0 ? (int)((joined << n) >>> 32) : (int)(joined >>> n);
            }
            case Op.SAD_S32 -> r[d] = (int)r[code[pc + 4]] + Math.abs((int)a - (int)b);
            case Op.SAD_U32 -> r[d] = (int)r[code[pc + 4]] +
                (int)Math.abs((a & 0xFFFF_FFFFL) - (b & 0xFFFF_FFFFL));
            case Op.SUB_I64 -> r[d] = a - b;
            case Op.MUL_LO_I64 -> r[d] = a * b;
            case Op.MUL_HI_S64 -> r[d] = Math.multiplyHigh(a, b);
            case Op.MUL_HI_U64 -> r[d] = unsignedMultiplyHigh(a, b);
            case Op.MAD_LO_I64 -> r[d] = a * b + r[code[pc + 4]];
            case Op.MAD_HI_S64 -> r[d] = Math.multiplyHigh(a, b) + r[code[pc + 4]];
            case Op.MAD_HI_U64 -> r[d] = unsignedMultiplyHigh(a, b) + r[code[pc + 4]];
            case Op.DIV_S64 -> r[d] = b == 0 ? -1 : a / b;
            case Op.DIV_U64 -> r[d] = b == 0 ? -1 : Long.divideUnsigned(a, b);
            case Op.REM_S64 -> r[d] = b == 0 ? a : a % b;
            case Op.REM_U64 -> r[d] = b == 0 ? a : Long.remainderUnsigned(a, b);
            case Op.MIN_S64 -> r[d] = Math.min(a, b);
            case Op.MIN_U64 -> r[d] = Long.compareUnsigned(a, b) <= 0 ? a : b;
            case Op.MAX_S64 -> r[d] = Math.max(a, b);
            case Op.MAX_U64 -> r[d] = Long.compareUnsigned(a, b) >= 0 ? a : b;
            case Op.ABS_S64 -> r[d] = Math.abs(a);
            case Op.NEG_I64 -> r[d] = -a;
            case Op.SHL_64 ->
            {
                final long n = b & 0xFFFF_FFFFL;
                r[d] = n > 63 ? 0 : a << n;
            }
            case Op.SHR_U64 ->
            {
                final long n = b & 0xFFFF_FFFFL;
                r[d] = n > 63 ? 0 : a >>> n;
            }
            case Op.SHR_S64 ->
            {
                final long n = b & 0xFFFF_FFFFL;
                r[d] = a >> (n > 63 ? 63 : n);
            }
            case Op.POPC_64 -> r[d] = Long.bitCount(a);
            case Op.CLZ_64 -> r[d] = Long.numberOfLeadingZeros(a);
            case Op.BREV_64 -> r[d] = Long.reverse(a);
            case Op.BFE_U64, Op.BFE_S64 -> r[d] = bfe(a, b, r[code[pc + 4]], 64, code[pc] == Op.BFE_S64);
            case Op.BFI_64 -> r[d] = bfi(a, b, r[code[pc + 4]], r[code[pc + 5]], 64);
            case Op.AND -> r[d] = a & b;
            case Op.OR -> r[d] = a | b;
            case Op.XOR -> r[d] = a ^ b;
            case Op.NOT -> r[d] = ~a;
            case Op.CNOT -> r[d] = a == 0 ? 1 : 0;
            case Op.PRED_NOT -> r[d] = a == 0 ? 1 : 0;
            case Op.PRED_AND -> r[d] = (a != 0 && b != 0) ? 1 : 0;
            case Op.PRED_OR -> r[d] = (a != 0 || b != 0) ? 1 : 0;
            case Op.PRED_XOR -> r[d] = ((a != 0) ^ (b != 0)) ? 1 : 0;
            case Op.SUB_F32 -> r[d] = fb(f(a) - f(b));
            case Op.DIV_F32 -> r[d] = fb(f(a) / f(b));
            case Op.MIN_F32 -> r[d] = fb(minF(f(a), f(b)));
            case Op.MAX_F32 -> r[d] = fb(maxF(f(a), f(b)));
            case Op.ABS_F32 -> r[d] = (int)a & 0x7FFF_FFFF;
            case Op.NEG_F32 -> r[d] = (int)a ^ 0x8000_0000;
            case Op.SQRT_F32 -> r[d] = fb((float)Math.sqrt(f(a)));
            case Op.RSQRT_F32 -> r[d] = fb((float)(1.0 / Math.sqrt(f(a))));
            case Op.RCP_F32 -> r[d] = fb(1.0f / f(a));
            case Op.SIN_F32 -> r[d] = fb((float)Math.sin(f(a)));
            case Op.COS_F32 -> r[d] = fb((float)Math.cos(f(a)));
            case Op.LG2_F32 -> r[d] = fb((float)(Math.log(f(a)) / Math.log(2.0)));
            case Op.EX2_F32 -> r[d] = fb((float)Math.pow(2.0, f(a)));
            case Op.TANH_F32 -> r[d] = fb((float)Math.tanh(f(a)));
            case Op.SAT_F32 ->
            {
                final float v = f(a);
                r[d] = fb(v != v ? 0.0f : Math.min(1.0f, Math.max(0.0f, v)));
            }
            case Op.COPYSIGN_F32 -> r[d] = fb(Math.copySign(f(b), f(a)));
            case Op.TESTP_F32 -> r[d] = testp(f(a), code[pc + 3]) ? 1 : 0;
            case Op.ADD_F64 -> r[d] = db(g(a) + g(b));
            case Op.SUB_F64 -> r[d] = db(g(a) - g(b));
            case Op.MUL_F64 -> r[d] = db(g(a) * g(b));
            case Op.FMA_F64 -> r[d] = db(Math.fma(g(a), g(b), g(r[code[pc + 4]])));
            case Op.DIV_F64 -> r[d] = db(g(a) / g(b));
            case Op.MIN_F64 -> r[d] = db(minD(g(a), g(b)));
            case Op.MAX_F64 -> r[d] = db(maxD(g(a), g(b)));
            case Op.ABS_F64 -> r[d] = a & Long.MAX_VALUE;
            case Op.NEG_F64 -> r[d] = a ^ Long.MIN_VALUE;
            case Op.SQRT_F64 -> r[d] = db(Math.sqrt(g(a)));
            case Op.RSQRT_F64 -> r[d] = db(1.0 / Math.sqrt(g(a)));
            case Op.RCP_F64 -> r[d] = db(1.0 / g(a));
            case Op.SAT_F64 ->
            {
                final double v = g(a);
                r[d] = db(v != v ? 0.0 : Math.min(1.0, Math.max(0.0, v)));
            }
            case Op.COPYSIGN_F64 -> r[d] = db(Math.copySign(g(b), g(a)));
            case Op.TESTP_F64 -> r[d] = testp(g(a), code[pc + 3]) ? 1 : 0;
            case Op.SET ->
            {
                final int cmp = code[pc + 4];
                final boolean result = compare(cmp & 0xFF, cmp >>> 8, a, b);
                r[d] = code[pc + 5] == 1 ? (result ? Float.floatToRawIntBits(1.0f) : 0) : (result ? -1 : 0);
            }
            case Op.SELP -> r[d] = r[code[pc + 4]] != 0 ? a : b;
            case Op.SLCT ->
            {
                final long c = r[code[pc + 4]];
                final boolean positive = code[pc + 5] == 1 ? f(c) >= 0.0f : (int)c >= 0;
                r[d] = positive ? a : b;
            }
            case Op.CVT -> r[d] = Conversions.convert(a, code[pc + 3], code[pc + 4], code[pc + 5], code[pc + 6] != 0);
            case Op.CARRY_ARITH -> carry(r, code, pc, a, b);
            case Op.HALF_ARITH -> r[d] = Conversions.half(a, b, r[code[pc + 4]], code[pc + 5], code[pc + 6]);
            case Op.ISSPACEP -> r[d] = isSpace(t, a, code[pc + 3]) ? 1 : 0;
            case Op.ATOM -> atomic(t, code, r, pc);
            default -> throw new KernelFault(CUDA_ERROR_LAUNCH_FAILED, "bad opcode " + code[pc]);
        }
    }

    private static void carry(final long[] r, final int[] code, final int pc, final long a, final long b)
    {
        final long c = r[code[pc + 4]];
        final int kind = code[pc + 5];
        final int flags = code[pc + 6];
        final long carryIn = (flags & 1) != 0 ? r[Op.SLOT_CARRY] : 0;
        final long result;
        final long carryOut;
        if ((flags & 4) == 0)
        {
            final long ua = a & 0xFFFF_FFFFL;
            final long ub = b & 0xFFFF_FFFFL;
            final long uc = c & 0xFFFF_FFFFL;
            final long wide = switch (kind)
            {
                case Op.CARRY_ADD -> ua + ub + carryIn;
                case Op.CARRY_SUB -> ua - ub - carryIn;
                case Op.CARRY_MAD_LO -> ((ua * ub) & 0xFFFF_FFFFL) + uc + carryIn;
                default -> ((ua * ub) >>> 32) + uc + carryIn;
            };
            result = (int)wide;
            carryOut = kind == Op.CARRY_SUB ? (wide < 0 ? 1 : 0) : (wide >>> 32) & 1;
        }
        else
        {
            final long addend = switch (kind)
            {
                case Op.CARRY_ADD, Op.CARRY_SUB -> b;
                case Op.CARRY_MAD_LO -> a * b;
                default -> unsignedMultiplyHigh(a, b);
            };
            if (kind == Op.CARRY_SUB)
            {
                result = a - b - carryIn;
                carryOut = Long.compareUnsigned(a, b) < 0 || (carryIn != 0 && a == b) ? 1 : 0;
            }
            else
            {
                final long first = kind == Op.CARRY_ADD ? a : c;
                final long partial = first + addend;
                result = partial + carryIn;
                carryOut = Long.compareUnsigned(partial, first) < 0 || Long.compareUnsigned(result, partial) < 0 ? 1 : 0;
            }
        }
        r[code[pc + 1]] = result;
        if ((flags & 2) != 0)
        {
            r[Op.SLOT_CARRY] = carryOut;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // memory

    long global(final long address, final int size)
    {
        final long host = memory.hostAddress(address, size);
        if (host == 0)
        {
            throw new KernelFault(CUDA_ERROR_ILLEGAL_ADDRESS,
                String.format("illegal address 0x%x (%d bytes)", address, size));
        }
        final long start = memory.allocationStart(address);
        cacheStart = start;
        cacheEnd = start + memory.allocationSize(start);
        cacheDelta = host - address;
        return host;
    }

    long resolve(final ThreadState t, final int space, final long address, final int size)
    {
        switch (space)
        {
            case Op.SPACE_GLOBAL:
                return address >= cacheStart && address + size <= cacheEnd ? address + cacheDelta : global(address, size);
            case Op.SPACE_SHARED:
            {
                final long offset = address & 0xFFFF_FFFFL;
                if (offset + size > sharedSize)
                {
                    throw new KernelFault(CUDA_ERROR_ILLEGAL_ADDRESS,
                        String.format("shared address 0x%x out of range", offset));
                }
                return sharedHost + offset;
            }
            case Op.SPACE_LOCAL:
                return stack(t, address & 0xFFFF_FFFFL, size);
            case Op.SPACE_FRAME:
                return stack(t, t.frameBase + address, size);
            case Op.SPACE_KPARAM:
            {
                final long offset = address >= Op.PARAM_WINDOW ? address - Op.PARAM_WINDOW : address;
                if (offset < 0 || offset + size > launch.parameterBytes)
                {
                    throw new KernelFault(CUDA_ERROR_ILLEGAL_ADDRESS, "parameter offset " + offset + " out of range");
                }
                return launch.parameterHost + offset;
            }
            default:
                if (address >= cacheStart && address + size <= cacheEnd)
                {
                    return address + cacheDelta;
                }
                if (address >= Op.SHARED_WINDOW && address < Op.SHARED_WINDOW + Op.WINDOW_SIZE)
                {
                    return resolve(t, Op.SPACE_SHARED, address - Op.SHARED_WINDOW, size);
                }
                if (address >= Op.LOCAL_WINDOW && address < Op.LOCAL_WINDOW + Op.WINDOW_SIZE)
                {
                    return stack(t, address - Op.LOCAL_WINDOW, size);
                }
                if (address >= Op.PARAM_WINDOW && address < Op.PARAM_WINDOW + Op.WINDOW_SIZE)
                {
                    return resolve(t, Op.SPACE_KPARAM, address, size);
                }
                return global(address, size);
        }
    }

    private long stack(final ThreadState t, final long offset, final int size)
    {
        if (offset < 0 || offset + size > launch.stackBytes)
        {
            throw new KernelFault(CUDA_ERROR_ILLEGAL_ADDRESS, String.format("local address 0x%x out of range", offset));
        }
        return t.stackHost + offset;
    }

    private long frame(final ThreadState t, final int offset, final int size)
    {
        return stack(t, t.frameBase + offset, size);
    }

    private long frameLong(final ThreadState t, final int offset)
    {
        return UnsafeApi.getLong(frame(t, offset, 8));
    }

    private boolean isSpace(final ThreadState t, final long address, final int space)
    {
        final boolean shared = address >= Op.SHARED_WINDOW && address < Op.SHARED_WINDOW + Op.WINDOW_SIZE;
        final boolean local = address >= Op.LOCAL_WINDOW && address < Op.LOCAL_WINDOW + Op.WINDOW_SIZE;
        final boolean param = address >= Op.PARAM_WINDOW && address < Op.PARAM_WINDOW + Op.WINDOW_SIZE;
        return switch (space)
        {
            case Op.SPACE_SHARED -> shared;
            case Op.SPACE_LOCAL -> local;
            case Op.SPACE_KPARAM -> param;
            default -> !shared && !local && !param;
        };
    }

    private void atomic(final ThreadState t, final int[] code, final long[] r, final int pc)
    {
        final int kind = code[pc + 6];
        final int operation = kind & 0xFF;
        final int type = kind >>> 8;
        final boolean wide = type == Op.T_U64 || type == Op.T_S64 || type == Op.T_F64;
        final long host = resolve(t, code[pc + 7], r[code[pc + 2]] + r[code[pc + 3]], wide ? 8 : 4);
        final long b = r[code[pc + 4]];
        final long c = r[code[pc + 5]];
        if (!wide)
        {
            int old;
            int updated;
            do
            {
                old = UnsafeApi.getIntVolatile(null, host);
                if (operation == Op.ATOM_CAS && old != (int)b)
                {
                    break;
                }
                updated = switch (operation)
                {
                    case Op.ATOM_ADD -> type == Op.T_F32 ? fb(Float.intBitsToFloat(old) + f(b)) : old + (int)b;
                    case Op.ATOM_MIN -> type == Op.T_S32 ? Math.min(old, (int)b) :
                        (Integer.compareUnsigned(old, (int)b) <= 0 ? old : (int)b);
                    case Op.ATOM_MAX -> type == Op.T_S32 ? Math.max(old, (int)b) :
                        (Integer.compareUnsigned(old, (int)b) >= 0 ? old : (int)b);
                    case Op.ATOM_INC -> Integer.compareUnsigned(old, (int)b) >= 0 ? 0 : old + 1;
                    case Op.ATOM_DEC -> old == 0 || Integer.compareUnsigned(old, (int)b) > 0 ? (int)b : old - 1;
                    case Op.ATOM_CAS -> (int)c;
                    case Op.ATOM_EXCH -> (int)b;
                    case Op.ATOM_AND -> old & (int)b;
                    case Op.ATOM_OR -> old | (int)b;
                    default -> old ^ (int)b;
                };
            }
            while (!UnsafeApi.compareAndSetInt(null, host, old, updated));
            r[code[pc + 1]] = old;
        }
        else
        {
            long old;
            long updated;
            do
            {
                old = UnsafeApi.getLongVolatile(null, host);
                if (operation == Op.ATOM_CAS && old != b)
                {
                    break;
                }
                updated = switch (operation)
                {
                    case Op.ATOM_ADD -> type == Op.T_F64 ? db(Double.longBitsToDouble(old) + g(b)) : old + b;
                    case Op.ATOM_MIN -> type == Op.T_S64 ? Math.min(old, b) : (Long.compareUnsigned(old, b) <= 0 ? old : b);
                    case Op.ATOM_MAX -> type == Op.T_S64 ? Math.max(old, b) : (Long.compareUnsigned(old, b) >= 0 ? old : b);
                    case Op.ATOM_INC -> Long.compareUnsigned(old, b) >= 0 ? 0 : old + 1;
                    case Op.ATOM_DEC -> old == 0 || Long.compareUnsigned(old, b) > 0 ? b : old - 1;
                    case Op.ATOM_CAS -> c;
                    case Op.ATOM_EXCH -> b;
                    case Op.ATOM_AND -> old & b;
                    case Op.ATOM_OR -> old | b;
                    default -> old ^ b;
                };
            }
            while (!UnsafeApi.compareAndSetLong(null, host, old, updated));
            r[code[pc + 1]] = old;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // printf

    private void printf(final ThreadState t, final int[] code, final long[] r, final int pc)
    {
        final long format = frameLong(t, code[pc + 1]);
        final long arguments = frameLong(t, code[pc + 2]);
        final String text = PrintfFormatter.format(cString(t, format), this, t, arguments);
        launch.print(text);
        if (code[pc + 3] >= 0)
        {
            UnsafeApi.putInt(frame(t, code[pc + 3], 4), text.length());
        }
    }

    String cString(final ThreadState t, final long address)
    {
        if (address == 0)
        {
            return "(null)";
        }
        final StringBuilder builder = new StringBuilder();
        long at = address;
        while (true)
        {
            final byte b = UnsafeApi.getByte(resolve(t, Op.SPACE_GENERIC, at, 1));
            if (b == 0 || builder.length() > 1 << 20)
            {
                break;
            }
            builder.append((char)(b & 0xFF));
            at++;
        }
        return new String(builder.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1),
            java.nio.charset.StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------------------------------------------------
    // arithmetic helpers

    static boolean compare(final int cmp, final int type, final long a, final long b)
    {
        switch (type)
        {
            case Op.T_S32:
                return compareOrdered(cmp, Integer.compare((int)a, (int)b));
            case Op.T_U32:
                return compareOrdered(cmp, Integer.compareUnsigned((int)a, (int)b));
            case Op.T_S64:
                return compareOrdered(cmp, Long.compare(a, b));
            case Op.T_U64:
                return compareOrdered(cmp, Long.compareUnsigned(a, b));
            case Op.T_F32:
                return compareFloat(cmp, f(a), f(b));
            default:
                return compareFloat(cmp, g(a), g(b));
        }
    }

    private static boolean compareOrdered(final int cmp, final int c)
    {
        return switch (cmp)
        {
            case Op.CMP_EQ, Op.CMP_EQU -> c == 0;
            case Op.CMP_NE, Op.CMP_NEU -> c != 0;
            case Op.CMP_LT, Op.CMP_LTU -> c < 0;
            case Op.CMP_LE, Op.CMP_LEU -> c <= 0;
            case Op.CMP_GT, Op.CMP_GTU -> c > 0;
            case Op.CMP_GE, Op.CMP_GEU -> c >= 0;
            case Op.CMP_NUM -> true;
            default -> false;
        };
    }

    private static boolean compareFloat(final int cmp, final double a, final double b)
    {
        final boolean nan = a != a || b != b;
        return switch (cmp)
        {
            case Op.CMP_EQ -> a == b;
            case Op.CMP_NE -> !nan && a != b;
            case Op.CMP_LT -> a < b;
            case Op.CMP_LE -> a <= b;
            case Op.CMP_GT -> a > b;
            case Op.CMP_GE -> a >= b;
            case Op.CMP_EQU -> nan || a == b;
            case Op.CMP_NEU -> a != b;
            case Op.CMP_LTU -> nan || a < b;
            case Op.CMP_LEU -> nan || a <= b;
            case Op.CMP_GTU -> nan || a > b;
            case Op.CMP_GEU -> nan || a >= b;
            case Op.CMP_NUM -> !nan;
            default -> nan;
        };
    }

    private static void setPredicate(final long[] r, final int[] code, final int pc, final boolean result)
    {
        boolean p = result;
        boolean q = !result;
        final int c = code[pc + 6];
        if (c >= 0)
        {
            final boolean other = r[c] != 0;
            switch (code[pc + 7])
            {
                case 1 ->
                {
                    p = result && other;
                    q = !result && other;
                }
                case 2 ->
                {
                    p = result || other;
                    q = !result || other;
                }
                default ->
                {
                    p = result ^ other;
                    q = !result ^ other;
                }
            }
        }
        r[code[pc + 1]] = p ? 1 : 0;
        if (code[pc + 5] >= 0)
        {
            r[code[pc + 5]] = q ? 1 : 0;
        }
    }

    private static long bfe(final long value, final long position, final long length, final int bits,
        final boolean signed)
    {
        final int pos = (int)(position & 0xFF);
        final int len = (int)(length & 0xFF);
        if (len == 0)
        {
            return 0;
        }
        if (pos >= bits)
        {
            if (!signed)
            {
                return 0;
            }
            final long sign = bits == 32 ? ((int)value >> 31) : (value >> 63);
            return sign;
        }
        final int take = Math.min(len, bits - pos);
        long field = (value >>> pos) & (take == 64 ? -1L : (1L << take) - 1);
        if (signed)
        {
            final int signBit = Math.min(pos + len - 1, bits - 1);
            final boolean negative = ((value >>> signBit) & 1) != 0;
            if (negative && len < 64)
            {
                field |= -1L << Math.min(take, len);
            }
        }
        return field;
    }

    private static long bfi(final long source, final long base, final long position, final long length, final int bits)
    {
        final int pos = (int)(position & 0xFF);
        final int len = (int)(length & 0xFF);
        if (len == 0 || pos >= bits)
        {
            return base;
        }
        final int take = Math.min(len, bits - pos);
        final long mask = (take == 64 ? -1L : (1L << take) - 1) << pos;
        return (base & ~mask) | ((source << pos) & mask);
    }

    private static int prmt(final int a, final int b, final int selector)
    {
        final long bytes = (a & 0xFFFF_FFFFL) | ((long)b << 32);
        int result = 0;
        for (int i = 0; i < 4; i++)
        {
            final int select = (selector >>> (4 * i)) & 0xF;
            int value = (int)(bytes >>> ((select & 7) * 8)) & 0xFF;
            if ((select & 8) != 0)
            {
                value = (value & 0x80) != 0 ? 0xFF : 0;
            }
            result |= value << (8 * i);
        }
        return result;
    }

    private static long unsignedMultiplyHigh(final long a, final long b)
    {
        return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
    }

    private static boolean testp(final double v, final int mode)
    {
        return switch (mode)
        {
            case 0 -> !Double.isNaN(v) && !Double.isInfinite(v);
            case 1 -> Double.isInfinite(v);
            case 2 -> !Double.isNaN(v);
            case 3 -> Double.isNaN(v);
            case 4 -> v != 0 && !Double.isNaN(v) && !Double.isInfinite(v) && Math.abs(v) >= Double.MIN_NORMAL;
            default -> v != 0 && Math.abs(v) < Double.MIN_NORMAL;
        };
    }

    private static boolean testp(final float v, final int mode)
    {
        return switch (mode)
        {
            case 0 -> !Float.isNaN(v) && !Float.isInfinite(v);
            case 1 -> Float.isInfinite(v);
            case 2 -> !Float.isNaN(v);
            case 3 -> Float.isNaN(v);
            case 4 -> v != 0 && !Float.isNaN(v) && !Float.isInfinite(v) && Math.abs(v) >= Float.MIN_NORMAL;
            default -> v != 0 && Math.abs(v) < Float.MIN_NORMAL;
        };
    }

    private static float minF(final float a, final float b)
    {
        return a != a ? b : b != b ? a : Math.min(a, b);
    }

    private static float maxF(final float a, final float b)
    {
        return a != a ? b : b != b ? a : Math.max(a, b);
    }

    private static double minD(final double a, final double b)
    {
        return a != a ? b : b != b ? a : Math.min(a, b);
    }

    private static double maxD(final double a, final double b)
    {
        return a != a ? b : b != b ? a : Math.max(a, b);
    }

    static int sizeBytes(final int sizeCode)
    {
        return switch (sizeCode)
        {
            case Op.SIZE_U8, Op.SIZE_S8 -> 1;
            case Op.SIZE_U16, Op.SIZE_S16 -> 2;
            case Op.SIZE_32 -> 4;
            default -> 8;
        };
    }

    static float f(final long bits)
    {
        return Float.intBitsToFloat((int)bits);
    }

    static int fb(final float value)
    {
        return Float.floatToRawIntBits(value);
    }

    static double g(final long bits)
    {
        return Double.longBitsToDouble(bits);
    }

    static long db(final double value)
    {
        return Double.doubleToRawLongBits(value);
    }
}
