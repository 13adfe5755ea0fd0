package dev.bitfusion.emulator.interp;

import dev.bitfusion.emulator.EmulatorException;
import dev.bitfusion.emulator.ptx.PtxFunction;
import dev.bitfusion.emulator.ptx.PtxInstruction;
import dev.bitfusion.emulator.ptx.PtxOperand;
import dev.bitfusion.emulator.ptx.PtxParser;
import dev.bitfusion.emulator.ptx.PtxStatement;
import dev.bitfusion.emulator.ptx.PtxVariable;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_INVALID_PTX;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_NOT_SUPPORTED;

/**
 * Decodes one PTX function into a {@link CompiledFunction}: names become register-file slots, immediates
 * become constant slots, labels become code offsets, and every instruction is checked, so that an
 * unsupported one fails the load rather than a launch.
 * <p>
 * Thread safety: not thread safe; one decoder per function.
 */
final class Decoder
{
    private static final Map<String, Integer> SPECIAL_REGISTERS = new HashMap<>();

    static
    {
        final String[] names = {
            "%tid.x", "%tid.y", "%tid.z", "%ntid.x", "%ntid.y", "%ntid.z", "%ctaid.x", "%ctaid.y", "%ctaid.z",
            "%nctaid.x", "%nctaid.y", "%nctaid.z", "%laneid", "%warpid", "%nwarpid", "%smid", "%nsmid", "%gridid",
            "%lanemask_eq", "%lanemask_lt", "%lanemask_le", "%lanemask_gt", "%lanemask_ge", null,
            "%dynamic_smem_size", "%total_smem_size" };
        for (int i = 0; i < names.length; i++)
        {
            if (names[i] != null)
            {
                SPECIAL_REGISTERS.put(names[i], i);
            }
        }
    }

    private enum SymbolKind
    {
        REGISTER, SHARED, DYNAMIC_SHARED, FRAME, KERNEL_PARAM, GLOBAL
    }

    private record Symbol(SymbolKind kind, long value, int size)
    {
    }

    /** What the module provides to every function: global addresses, shared layout, function names. */
    static final class ModuleScope
    {
        final Map<String, Long> globalAddresses = new HashMap<>();
        final Map<String, Integer> sharedOffsets = new HashMap<>();
        final Set<String> dynamicShared = new HashSet<>();
        final Map<String, PtxFunction> functions = new HashMap<>();
        int sharedBytes;
    }

    private final ModuleScope module;
    private final PtxFunction function;
    private final CompiledFunction compiled;

    private final Map<String, Symbol> symbols = new HashMap<>();
    private final ArrayDeque<List<Object[]>> scopes = new ArrayDeque<>();
    private final Map<Long, Integer> constants = new HashMap<>();
    private final List<long[]> constantValues = new ArrayList<>();
    private final Map<String, Integer> labels = new HashMap<>();
    private final List<Object[]> labelFixups = new ArrayList<>();
    private final List<CompiledFunction.CallSite> callSites = new ArrayList<>();
    private int[] code = new int[256 * Op.STRIDE];
    private int[] lines = new int[256];
    private int codeLength;
    private int nextSlot = Op.SPECIAL_SLOTS;
    private int frameSize;
    private int localBytes;
    private int sharedBytes;
    private int declaredRegisters;
    private int line;
    private String opcodeText;

    private Decoder(final ModuleScope module, final PtxFunction function)
    {
        this.module = module;
        this.function = function;
        this.compiled = new CompiledFunction(function.name(), function.entry());
        this.sharedBytes = module.sharedBytes;
    }

    static CompiledFunction decode(final ModuleScope module, final PtxFunction function) throws EmulatorException
    {
        return new Decoder(module, function).decode();
    }

    private CompiledFunction decode() throws EmulatorException
    {
        scopes.push(new ArrayList<>());
        if (function.entry())
        {
            int offset = 0;
            for (final PtxVariable param : function.params())
            {
                offset = align(offset, param.alignment());
                bind(param.name(), new Symbol(SymbolKind.KERNEL_PARAM, offset, (int)param.sizeBytes()));
                offset += (int)param.sizeBytes();
            }
        }
        else
        {
            compiled.returnOffset = -1;
            for (final PtxVariable ret : function.returns())
            {
                final int offset = frameAllocate(ret);
                if (compiled.returnOffset < 0)
                {
                    compiled.returnOffset = offset;
                    compiled.returnSize = (int)ret.sizeBytes();
                }
            }
            compiled.formalOffsets = new int[function.params().size()];
            compiled.formalSizes = new int[function.params().size()];
            for (int i = 0; i < function.params().size(); i++)
            {
                final PtxVariable param = function.params().get(i);
                compiled.formalOffsets[i] = frameAllocate(param);
                compiled.formalSizes[i] = (int)param.sizeBytes();
            }
        }

        for (final PtxStatement statement : function.body())
        {
            switch (statement.kind())
            {
                case SCOPE_OPEN -> scopes.push(new ArrayList<>());
                case SCOPE_CLOSE -> closeScope();
                case LABEL -> labels.put(statement.label(), codeLength);
                case DECLARATION -> declare(statement.variable());
                case INSTRUCTION -> instruction(statement.instruction());
                default -> throw new IllegalStateException();
            }
        }
        emit(Op.RET, 0, 0, 0, 0, 0, 0, 0);

        for (final Object[] fixup : labelFixups)
        {
            final Integer target = labels.get((String)fixup[1]);
            if (target == null)
            {
                throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "unknown label " + fixup[1] + " in " + function.name() +
                    " at line " + fixup[2]);
            }
            code[(Integer)fixup[0]] = target;
        }

        final long[] template = new long[nextSlot];
        for (final long[] constant : constantValues)
        {
            template[(int)constant[0]] = constant[1];
        }
        compiled.code = Arrays.copyOf(code, codeLength);
        compiled.lines = Arrays.copyOf(lines, codeLength / Op.STRIDE);
        compiled.registerTemplate = template;
        compiled.frameSize = align(frameSize, 16);
        compiled.localBytes = localBytes;
        compiled.staticSharedBytes = sharedBytes;
        compiled.declaredRegisters = declaredRegisters;
        compiled.maxThreads = function.maxThreads();
        compiled.callSites = callSites.toArray(new CompiledFunction.CallSite[0]);
        return compiled;
    }

    private void closeScope()
    {
        final List<Object[]> undo = scopes.pop();
        for (int i = undo.size() - 1; i >= 0; i--)
        {
            final Object[] entry = undo.get(i);
            if (entry[1] == null)
            {
                symbols.remove((String)entry[0]);
            }
            else
            {
                symbols.put((String)entry[0], (Symbol)entry[1]);
            }
        }
    }

    private void bind(final String name, final Symbol symbol)
    {
        final Symbol previous = symbols.put(name, symbol);
        scopes.peek().add(new Object[]{ name, previous });
    }

    private int frameAllocate(final PtxVariable variable)
    {
        final int offset = align(frameSize, variable.alignment());
        frameSize = offset + (int)Math.max(variable.sizeBytes(), 0);
        bind(variable.name(), new Symbol(SymbolKind.FRAME, offset, (int)variable.sizeBytes()));
        return offset;
    }

    private void declare(final PtxVariable variable) throws EmulatorException
    {
        line = variable.line();
        switch (variable.space())
        {
            case "reg" ->
            {
                if (variable.ranged())
                {
                    for (int i = 0; i < variable.count(); i++)
                    {
                        bind(variable.name() + i, new Symbol(SymbolKind.REGISTER, nextSlot++, variable.elementSize()));
                    }
                }
                else
                {
                    bind(variable.name(), new Symbol(SymbolKind.REGISTER, nextSlot++, variable.elementSize()));
                }
                if (!"pred".equals(variable.type()))
                {
                    declaredRegisters += (int)(variable.count() * Math.max(1, variable.elementSize() / 4));
                }
            }
            case "local" ->
            {
                final int before = frameSize;
                frameAllocate(variable);
                localBytes += frameSize - before;
            }
            case "param" -> frameAllocate(variable);
            case "shared" ->
            {
                if (variable.external() || variable.count() < 0)
                {
                    bind(variable.name(), new Symbol(SymbolKind.DYNAMIC_SHARED, 0, 0));
                }
                else
                {
                    final int offset = align(sharedBytes, variable.alignment());
                    sharedBytes = offset + (int)variable.sizeBytes();
                    bind(variable.name(), new Symbol(SymbolKind.SHARED, offset, (int)variable.sizeBytes()));
                }
            }
            default -> throw new EmulatorException(CUDA_ERROR_NOT_SUPPORTED, "." + variable.space() +
                " variables inside functions are not supported (line " + variable.line() + ")");
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // instructions

    private void instruction(final PtxInstruction instruction) throws EmulatorException
    {
        line = instruction.line();
        opcodeText = instruction.opcode();
        final String[] parts = instruction.opcode().split("\\.");
        final String base = parts[0];
        final List<PtxOperand> ops = instruction.operands();

        if (instruction.guard() != null && ("bra".equals(base)))
        {
            final int predicate = source(PtxOperand.name(instruction.guard(), false), "pred");
            emit(instruction.guardNegated() ? Op.BRA_IFNOT : Op.BRA_IF, 0, predicate, 0, 0, 0, 0, 0);
            labelFixup(codeLength - Op.STRIDE + 1, ops.get(0).name());
            return;
        }
        int skipAt = -1;
        if (instruction.guard() != null)
        {
            final int predicate = source(PtxOperand.name(instruction.guard(), false), "pred");
            emit(instruction.guardNegated() ? Op.BRA_IF : Op.BRA_IFNOT, 0, predicate, 0, 0, 0, 0, 0);
            skipAt = codeLength - Op.STRIDE + 1;
        }
        body(base, parts, ops);
        if (skipAt >= 0)
        {
            code[skipAt] = codeLength;
        }
    }

    private void body(final String base, final String[] parts, final List<PtxOperand> ops) throws EmulatorException
    {
        final Set<String> mods = new HashSet<>(Arrays.asList(parts).subList(1, parts.length));
        final String type = parts.length > 1 ? parts[parts.length - 1] : "";
        switch (base)
        {
            case "mov" -> mov(type, ops);
            case "add", "sub", "mul", "div", "rem", "min", "max", "mad", "fma" ->
            {
                if (mods.contains("cc"))
                {
                    carry(base, false, mods, type, ops);
                }
                else
                {
                    arithmetic(base, type, mods, ops);
                }
            }
            case "addc", "subc", "madc" -> carry(base.substring(0, 3), true, mods, type, ops);
            case "mul24", "mad24" ->
            {
                if (mods.contains("hi"))
                {
                    throw unsupported();
                }
                final int shift = constant(8);
                final int[] narrowed = new int[2];
                for (int i = 0; i < 2; i++)
                {
                    narrowed[i] = scratch();
                    emit(Op.SHL_32, narrowed[i], source(ops.get(1 + i), type), shift);
                    emit(signed(type) ? Op.SHR_S32 : Op.SHR_U32, narrowed[i], narrowed[i], shift);
                }
                emit("mul24".equals(base) ? Op.MUL_LO_I32 : Op.MAD_LO_I32, dst(ops.get(0)), narrowed[0], narrowed[1],
                    "mad24".equals(base) ? source(ops.get(3), type) : 0);
            }
            case "abs", "neg" -> unary(base, type, mods, ops);
            case "and", "or", "xor" -> bitwise(base, type, ops);
            case "not" -> emit("pred".equals(type) ? Op.PRED_NOT : Op.NOT, dst(ops.get(0)), source(ops.get(1), type));
            case "cnot" -> emit(Op.CNOT, dst(ops.get(0)), source(ops.get(1), type));
            case "shl", "shr" -> shift(base, type, ops);
            case "popc", "clz", "brev" -> bitCount(base, type, ops);
            case "bfe" -> emit(is64(type) ? (signed(type) ? Op.BFE_S64 : Op.BFE_U64) :
                (signed(type) ? Op.BFE_S32 : Op.BFE_U32),
                dst(ops.get(0)), source(ops.get(1), type), source(ops.get(2), "u32"), source(ops.get(3), "u32"));
            case "bfi" -> emit(is64(type) ? Op.BFI_64 : Op.BFI_32, dst(ops.get(0)), source(ops.get(1), type),
                source(ops.get(2), type), source(ops.get(3), "u32"), source(ops.get(4), "u32"));
            case "prmt" ->
            {
                if (parts.length > 2)
                {
                    throw unsupported();
                }
                emit(Op.PRMT, dst(ops.get(0)), source(ops.get(1), "b32"), source(ops.get(2), "b32"),
                    source(ops.get(3), "b32"));
            }
            case "bfind" -> emit(Op.BFIND, dst(ops.get(0)), source(ops.get(1), type),
                (is64(type) ? 1 : 0) | (signed(type) ? 2 : 0) | (mods.contains("shiftamt") ? 4 : 0));
            case "shf" -> emit(Op.SHF, dst(ops.get(0)), source(ops.get(1), "b32"), source(ops.get(2), "b32"),
                source(ops.get(3), "u32"), (mods.contains("l") ? 1 : 0) | (mods.contains("wrap") ? 2 : 0));
            case "sad" -> emit(signed(type) ? Op.SAD_S32 : Op.SAD_U32, dst(ops.get(0)), source(ops.get(1), type),
                source(ops.get(2), type), source(ops.get(3), type));
            case "copysign" -> emit("f64".equals(type) ? Op.COPYSIGN_F64 : Op.COPYSIGN_F32, dst(ops.get(0)),
                source(ops.get(1), type), source(ops.get(2), type));
            case "testp" -> testp(parts, type, ops);
            case "sqrt", "rsqrt", "rcp", "sin", "cos", "lg2", "ex2", "tanh" -> math(base, type, mods, ops);
            case "setp" -> setp(parts, type, ops);
            case "set" -> set(parts, ops);
            case "selp" -> emit(Op.SELP, dst(ops.get(0)), source(ops.get(1), type), source(ops.get(2), type),
                source(ops.get(3), "pred"));
            case "slct" -> emit(Op.SLCT, dst(ops.get(0)), source(ops.get(1), parts[1]), source(ops.get(2), parts[1]),
                source(ops.get(3), type), "f32".equals(type) ? 1 : 0);
            case "cvt" -> cvt(parts, mods, ops);
            case "cvta" -> cvta(mods, ops);
            case "isspacep" -> emit(Op.ISSPACEP, dst(ops.get(0)), source(ops.get(1), "u64"),
                mods.contains("shared") ? Op.SPACE_SHARED : mods.contains("local") ? Op.SPACE_LOCAL :
                mods.contains("param") ? Op.SPACE_KPARAM : Op.SPACE_GLOBAL);
            case "ld", "ldu" -> load(mods, type, ops);
            case "st" -> store(mods, type, ops);
            case "atom", "red" -> atomic("atom".equals(base), parts, mods, type, ops);
            case "bra" -> labelFixup(emit(Op.BRA, 0) + 1, ops.get(0).name());
            case "call" -> call(ops);
            case "ret" -> emit(Op.RET);
            case "exit" -> emit(Op.EXIT);
            case "trap" -> emit(Op.TRAP);
            case "membar", "fence", "prefetch", "prefetchu", "brkpt", "nanosleep", "pmevent", "discard",
                "griddepcontrol", "applypriority" -> emit(Op.NOP);
            case "bar", "barrier" -> barrier(mods, ops);
            case "shfl" -> shuffle(parts, ops);
            case "vote" -> vote(mods, type, ops);
            case "activemask" -> emit(Op.ACTIVEMASK, dst(ops.get(0)));
            case "redux" -> redux(parts, type, ops);
            case "match" -> emit(Op.MATCH, dst(ops.get(0)), source(ops.get(1), type), source(ops.get(2), "b32"),
                mods.contains("all") ? 1 : 0, ops.get(0).kind() == PtxOperand.Kind.PAIR ?
                register(ops.get(0).elements().get(0).name()) : -1, is64(type) ? 1 : 0);
            default -> throw unsupported();
        }
    }

    private void mov(final String type, final List<PtxOperand> ops) throws EmulatorException
    {
        final PtxOperand d = ops.get(0);
        final PtxOperand s = ops.get(1);
        if (d.kind() == PtxOperand.Kind.VECTOR)
        {
            if (d.elements().size() != 2)
            {
                throw unsupported();
            }
            emit(is64(type) ? Op.UNPACK64 : Op.UNPACK32, dst(d.elements().get(0)), dst(d.elements().get(1)),
                source(s, type));
        }
        else if (s.kind() == PtxOperand.Kind.VECTOR)
        {
            if (s.elements().size() != 2)
            {
                throw unsupported();
            }
            emit(is64(type) ? Op.PACK64 : Op.PACK32, dst(d), source(s.elements().get(0), type),
                source(s.elements().get(1), type));
        }
        else
        {
            emit(Op.MOV, dst(d), source(s, type));
        }
    }

    private void arithmetic(final String base, final String type, final Set<String> mods, final List<PtxOperand> ops)
        throws EmulatorException
    {
        if (("add".equals(base) || "sub".equals(base)) && mods.contains("sat") && !isFloat(type))
        {
            if (!"s32".equals(type))
            {
                throw unsupported();
            }
            emit("add".equals(base) ? Op.ADD_SAT_S32 : Op.SUB_SAT_S32, dst(ops.get(0)), source(ops.get(1), type),
                source(ops.get(2), type));
            return;
        }
        if (isHalf(type))
        {
            half(base, type, ops);
            return;
        }
        final int d = dst(ops.get(0));
        final boolean three = "mad".equals(base) || "fma".equals(base);
        final String sourceType = mods.contains("wide") ? type : type;
        final int a = intSource(ops.get(1), sourceType);
        final int b = intSource(ops.get(2), sourceType);
        final int c = three ? source(ops.get(3), mods.contains("wide") ? widen(type) : type) : 0;
        final int op;
        if ("f32".equals(type))
        {
            op = switch (base)
            {
                case "add" -> Op.ADD_F32;
                case "sub" -> Op.SUB_F32;
                case "mul" -> Op.MUL_F32;
                case "div" -> Op.DIV_F32;
                case "min" -> Op.MIN_F32;
                case "max" -> Op.MAX_F32;
                case "mad", "fma" -> Op.FMA_F32;
                default -> throw unsupported();
            };
        }
        else if ("f64".equals(type))
        {
            op = switch (base)
            {
                case "add" -> Op.ADD_F64;
                case "sub" -> Op.SUB_F64;
                case "mul" -> Op.MUL_F64;
                case "div" -> Op.DIV_F64;
                case "min" -> Op.MIN_F64;
                case "max" -> Op.MAX_F64;
                case "mad", "fma" -> Op.FMA_F64;
                default -> throw unsupported();
            };
        }
        else if (is64(type))
        {
            final boolean s = signed(type);
            op = switch (base)
            {
                case "add" -> Op.ADD_I64;
                case "sub" -> Op.SUB_I64;
                case "mul" -> mods.contains("hi") ? (s ? Op.MUL_HI_S64 : Op.MUL_HI_U64) : mulLo(mods, Op.MUL_LO_I64);
                case "mad" -> mods.contains("hi") ? (s ? Op.MAD_HI_S64 : Op.MAD_HI_U64) : mulLo(mods, Op.MAD_LO_I64);
                case "div" -> s ? Op.DIV_S64 : Op.DIV_U64;
                case "rem" -> s ? Op.REM_S64 : Op.REM_U64;
                case "min" -> s ? Op.MIN_S64 : Op.MIN_U64;
                case "max" -> s ? Op.MAX_S64 : Op.MAX_U64;
                default -> throw unsupported();
            };
        }
        else if (is32(type) || is16(type))
        {
            final boolean s = signed(type);
            final boolean wide = mods.contains("wide");
            if (wide && is16(type))
            {
                op = "mul".equals(base) ? Op.MUL_LO_I32 : Op.MAD_LO_I32;
            }
            else
            {
                op = switch (base)
                {
                    case "add" -> Op.ADD_I32;
                    case "sub" -> Op.SUB_I32;
                    case "mul" -> wide ? (s ? Op.MUL_WIDE_S32 : Op.MUL_WIDE_U32) :
                        mods.contains("hi") ? (s ? Op.MUL_HI_S32 : Op.MUL_HI_U32) : Op.MUL_LO_I32;
                    case "mad" -> wide ? (s ? Op.MAD_WIDE_S32 : Op.MAD_WIDE_U32) :
                        mods.contains("hi") ? (s ? Op.MAD_HI_S32 : Op.MAD_HI_U32) : Op.MAD_LO_I32;
                    case "div" -> s ? Op.DIV_S32 : Op.DIV_U32;
                    case "rem" -> s ? Op.REM_S32 : Op.REM_U32;
                    case "min" -> s ? Op.MIN_S32 : Op.MIN_U32;
                    case "max" -> s ? Op.MAX_S32 : Op.MAX_U32;
                    default -> throw unsupported();
                };
            }
            if (is16(type) && mods.contains("hi"))
            {
                throw unsupported();
            }
        }
        else
        {
            throw unsupported();
        }
        emit(op, d, a, b, c);
        if (mods.contains("sat") && isFloat(type))
        {
            emit("f64".equals(type) ? Op.SAT_F64 : Op.SAT_F32, d, d);
        }
    }

    private void carry(
        final String base, final boolean carryIn, final Set<String> mods, final String type, final List<PtxOperand> ops)
        throws EmulatorException
    {
        final int kind = switch (base)
        {
            case "add" -> Op.CARRY_ADD;
            case "sub" -> Op.CARRY_SUB;
            case "mad" -> mods.contains("hi") ? Op.CARRY_MAD_HI : Op.CARRY_MAD_LO;
            default -> throw unsupported();
        };
        if (!is32(type) && !is64(type) || isFloat(type))
        {
            throw unsupported();
        }
        final int flags = (carryIn ? 1 : 0) | (mods.contains("cc") ? 2 : 0) | (is64(type) ? 4 : 0);
        final int c = kind >= Op.CARRY_MAD_LO ? source(ops.get(3), type) : constant(0);
        emit(Op.CARRY_ARITH, dst(ops.get(0)), source(ops.get(1), type), source(ops.get(2), type), c, kind, flags);
    }

    private int mulLo(final Set<String> mods, final int op) throws EmulatorException
    {
        if (mods.contains("wide"))
        {
            throw unsupported();
        }
        return op;
    }

    private void half(final String base, final String type, final List<PtxOperand> ops) throws EmulatorException
    {
        final int kind = switch (base)
        {
            case "add" -> 0;
            case "sub" -> 1;
            case "mul" -> 2;
            case "fma" -> 3;
            case "min" -> 4;
            case "max" -> 5;
            case "neg" -> 6;
            case "abs" -> 7;
            default -> throw unsupported();
        };
        final int format = switch (type)
        {
            case "f16" -> 0;
            case "bf16" -> 1;
            case "f16x2" -> 2;
            case "bf16x2" -> 3;
            default -> throw unsupported();
        };
        final int a = source(ops.get(1), type);
        final int b = ops.size() > 2 ? source(ops.get(2), type) : a;
        final int c = ops.size() > 3 ? source(ops.get(3), type) : a;
        emit(Op.HALF_ARITH, dst(ops.get(0)), a, b, c, kind, format);
    }

    private void unary(final String base, final String type, final Set<String> mods, final List<PtxOperand> ops)
        throws EmulatorException
    {
        if (isHalf(type))
        {
            half(base, type, ops);
            return;
        }
        final boolean abs = "abs".equals(base);
        final int op = switch (type)
        {
            case "f32" -> abs ? Op.ABS_F32 : Op.NEG_F32;
            case "f64" -> abs ? Op.ABS_F64 : Op.NEG_F64;
            case "s64", "u64", "b64" -> abs ? Op.ABS_S64 : Op.NEG_I64;
            case "s32", "u32", "b32", "s16", "u16", "b16" -> abs ? Op.ABS_S32 : Op.NEG_I32;
            default -> throw unsupported();
        };
        emit(op, dst(ops.get(0)), intSource(ops.get(1), type));
    }

    private void bitwise(final String base, final String type, final List<PtxOperand> ops) throws EmulatorException
    {
        final boolean predicate = "pred".equals(type);
        final int op = switch (base)
        {
            case "and" -> predicate ? Op.PRED_AND : Op.AND;
            case "or" -> predicate ? Op.PRED_OR : Op.OR;
            default -> predicate ? Op.PRED_XOR : Op.XOR;
        };
        emit(op, dst(ops.get(0)), source(ops.get(1), type), source(ops.get(2), type));
    }

    private void shift(final String base, final String type, final List<PtxOperand> ops) throws EmulatorException
    {
        final int op;
        if ("shl".equals(base))
        {
            op = is64(type) ? Op.SHL_64 : Op.SHL_32;
        }
        else if (is64(type))
        {
            op = signed(type) ? Op.SHR_S64 : Op.SHR_U64;
        }
        else
        {
            op = signed(type) ? Op.SHR_S32 : Op.SHR_U32;
        }
        final int d = dst(ops.get(0));
        emit(op, d, intSource(ops.get(1), type), source(ops.get(2), "u32"));
        if (is16(type))
        {
            emit(signed(type) ? Op.EXT16_S : Op.EXT16_U, d, d);
        }
    }

    private void bitCount(final String base, final String type, final List<PtxOperand> ops) throws EmulatorException
    {
        final boolean wide = is64(type);
        final int op = switch (base)
        {
            case "popc" -> wide ? Op.POPC_64 : Op.POPC_32;
            case "clz" -> wide ? Op.CLZ_64 : Op.CLZ_32;
            default -> wide ? Op.BREV_64 : Op.BREV_32;
        };
        emit(op, dst(ops.get(0)), source(ops.get(1), type));
    }

    private void testp(final String[] parts, final String type, final List<PtxOperand> ops) throws EmulatorException
    {
        final int mode = switch (parts[1])
        {
            case "finite" -> 0;
            case "infinite" -> 1;
            case "number" -> 2;
            case "notanumber" -> 3;
            case "normal" -> 4;
            case "subnormal" -> 5;
            default -> throw unsupported();
        };
        emit("f64".equals(type) ? Op.TESTP_F64 : Op.TESTP_F32, dst(ops.get(0)), source(ops.get(1), type), mode);
    }

    private void math(final String base, final String type, final Set<String> mods, final List<PtxOperand> ops)
        throws EmulatorException
    {
        final boolean f64 = "f64".equals(type);
        if (!f64 && !"f32".equals(type))
        {
            throw unsupported();
        }
        final int op = switch (base)
        {
            case "sqrt" -> f64 ? Op.SQRT_F64 : Op.SQRT_F32;
            case "rsqrt" -> f64 ? Op.RSQRT_F64 : Op.RSQRT_F32;
            case "rcp" -> f64 ? Op.RCP_F64 : Op.RCP_F32;
            case "sin" -> f64 ? -1 : Op.SIN_F32;
            case "cos" -> f64 ? -1 : Op.COS_F32;
            case "lg2" -> f64 ? -1 : Op.LG2_F32;
            case "ex2" -> f64 ? -1 : Op.EX2_F32;
            default -> f64 ? -1 : Op.TANH_F32;
        };
        if (op < 0)
        {
            throw unsupported();
        }
        final int d = dst(ops.get(0));
        emit(op, d, source(ops.get(1), type));
        if (mods.contains("sat"))
        {
            emit(f64 ? Op.SAT_F64 : Op.SAT_F32, d, d);
        }
    }

    private void setp(final String[] parts, final String type, final List<PtxOperand> ops) throws EmulatorException
    {
        final int compare = compare(parts[1]);
        int boolOp = 0;
        for (int i = 2; i < parts.length; i++)
        {
            switch (parts[i])
            {
                case "and" -> boolOp = 1;
                case "or" -> boolOp = 2;
                case "xor" -> boolOp = 3;
                default ->
                {
                    // type and .ftz
                }
            }
        }
        final PtxOperand target = ops.get(0);
        final int p = dst(target);
        final int q = target.kind() == PtxOperand.Kind.PAIR ? register(target.elements().get(0).name()) : -1;
        final int c = boolOp != 0 ? source(ops.get(3), "pred") : -1;
        emit(Op.SETP, p, intSource(ops.get(1), type), intSource(ops.get(2), type),
            compare | (compareType(type) << 8), q, c, boolOp);
    }

    private void set(final String[] parts, final List<PtxOperand> ops) throws EmulatorException
    {
        final int compare = compare(parts[1]);
        if (parts.length != 4)
        {
            throw unsupported();
        }
        final String dtype = parts[2];
        final String stype = parts[3];
        emit(Op.SET, dst(ops.get(0)), intSource(ops.get(1), stype), intSource(ops.get(2), stype),
            compare | (compareType(stype) << 8), "f32".equals(dtype) ? 1 : 0);
    }

    private int compareType(final String type) throws EmulatorException
    {
        return switch (type)
        {
            case "s16", "s32" -> Op.T_S32;
            case "u16", "b16", "u32", "b32" -> Op.T_U32;
            case "s64" -> Op.T_S64;
            case "u64", "b64" -> Op.T_U64;
            case "f32" -> Op.T_F32;
            case "f64" -> Op.T_F64;
            default -> throw unsupported();
        };
    }

    private int compare(final String name) throws EmulatorException
    {
        return switch (name)
        {
            case "eq" -> Op.CMP_EQ;
            case "ne" -> Op.CMP_NE;
            case "lt", "lo" -> Op.CMP_LT;
            case "le", "ls" -> Op.CMP_LE;
            case "gt", "hi" -> Op.CMP_GT;
            case "ge", "hs" -> Op.CMP_GE;
            case "equ" -> Op.CMP_EQU;
            case "neu" -> Op.CMP_NEU;
            case "ltu" -> Op.CMP_LTU;
            case "leu" -> Op.CMP_LEU;
            case "gtu" -> Op.CMP_GTU;
            case "geu" -> Op.CMP_GEU;
            case "num" -> Op.CMP_NUM;
            case "nan" -> Op.CMP_NAN;
            default -> throw unsupported();
        };
    }

    private void cvt(final String[] parts, final Set<String> mods, final List<PtxOperand> ops) throws EmulatorException
    {
        int rounding = Op.RND_NONE;
        final List<String> types = new ArrayList<>(2);
        for (int i = 1; i < parts.length; i++)
        {
            switch (parts[i])
            {
                case "rn" -> rounding = Op.RND_RN;
                case "rz" -> rounding = Op.RND_RZ;
                case "rm" -> rounding = Op.RND_RM;
                case "rp" -> rounding = Op.RND_RP;
                case "rni" -> rounding = Op.RND_RNI;
                case "rzi" -> rounding = Op.RND_RZI;
                case "rmi" -> rounding = Op.RND_RMI;
                case "rpi" -> rounding = Op.RND_RPI;
                case "ftz", "sat", "relu" ->
                {
                    // .sat is read below; .ftz does not change results the tests can see
                }
                default -> types.add(parts[i]);
            }
        }
        if (types.size() != 2 || mods.contains("relu"))
        {
            throw unsupported();
        }
        final String dtype = types.get(0);
        final String atype = types.get(1);
        final int sat = mods.contains("sat") ? 1 : 0;
        if ("f16x2".equals(dtype) || "bf16x2".equals(dtype))
        {
            final String element = "f16x2".equals(dtype) ? "f16" : "bf16";
            final int hi = scratch();
            final int lo = scratch();
            emit(Op.CVT, hi, source(ops.get(1), atype), typeCode(element), typeCode(atype), rounding, sat);
            emit(Op.CVT, lo, source(ops.get(2), atype), typeCode(element), typeCode(atype), rounding, sat);
            emit(Op.PACK32, dst(ops.get(0)), lo, hi);
            return;
        }
        emit(Op.CVT, dst(ops.get(0)), source(ops.get(1), atype), typeCode(dtype), typeCode(atype), rounding, sat);
    }

    private int typeCode(final String type) throws EmulatorException
    {
        return switch (type)
        {
            case "u8", "b8" -> Op.T_U8;
            case "s8" -> Op.T_S8;
            case "u16", "b16" -> Op.T_U16;
            case "s16" -> Op.T_S16;
            case "u32", "b32" -> Op.T_U32;
            case "s32" -> Op.T_S32;
            case "u64", "b64" -> Op.T_U64;
            case "s64" -> Op.T_S64;
            case "f16" -> Op.T_F16;
            case "bf16" -> Op.T_BF16;
            case "f32" -> Op.T_F32;
            case "f64" -> Op.T_F64;
            default -> throw unsupported();
        };
    }

    private void cvta(final Set<String> mods, final List<PtxOperand> ops) throws EmulatorException
    {
        final boolean to = mods.contains("to");
        final int d = dst(ops.get(0));
        final int a = source(ops.get(1), "u64");
        if (mods.contains("global") || mods.contains("const"))
        {
            emit(Op.MOV, d, a);
            return;
        }
        final long window;
        if (mods.contains("shared"))
        {
            window = Op.SHARED_WINDOW;
        }
        else if (mods.contains("local"))
        {
            window = Op.LOCAL_WINDOW;
        }
        else if (mods.contains("param") && function.entry())
        {
            emit(Op.MOV, d, a);
            return;
        }
        else
        {
            throw unsupported();
        }
        if (to)
        {
            emit(Op.SUB_I64, d, a, constant(window));
        }
        else
        {
            final int widened = scratch();
            emit(Op.EXT32_U, widened, a);
            emit(Op.ADD_I64, d, widened, constant(window));
        }
    }

    private int space(final Set<String> mods) throws EmulatorException
    {
        if (mods.contains("global") || mods.contains("const"))
        {
            return Op.SPACE_GLOBAL;
        }
        if (mods.contains("shared"))
        {
            return Op.SPACE_SHARED;
        }
        if (mods.contains("local"))
        {
            return Op.SPACE_LOCAL;
        }
        if (mods.contains("param"))
        {
            return function.entry() ? Op.SPACE_KPARAM : Op.SPACE_LOCAL;
        }
        if (mods.contains("tex") || mods.contains("surf"))
        {
            throw unsupported();
        }
        return Op.SPACE_GENERIC;
    }

    private static int vectorWidth(final Set<String> mods)
    {
        return mods.contains("v2") ? 2 : mods.contains("v4") ? 4 : mods.contains("v8") ? 8 : 1;
    }

    private int sizeCode(final String type) throws EmulatorException
    {
        return switch (type)
        {
            case "u8", "b8" -> Op.SIZE_U8;
            case "s8" -> Op.SIZE_S8;
            case "u16", "b16", "f16", "bf16" -> Op.SIZE_U16;
            case "s16" -> Op.SIZE_S16;
            case "u32", "s32", "b32", "f32", "f16x2", "bf16x2" -> Op.SIZE_32;
            case "u64", "s64", "b64", "f64" -> Op.SIZE_64;
            default -> throw unsupported();
        };
    }

    private static int sizeBytes(final int sizeCode)
    {
        return switch (sizeCode)
        {
            case Op.SIZE_U8, Op.SIZE_S8 -> 1;
            case Op.SIZE_U16, Op.SIZE_S16 -> 2;
            case Op.SIZE_32 -> 4;
            default -> 8;
        };
    }

    /**
     * Resolve an address operand.
     *
     * @return {base slot, offset, space}.
     */
    private long[] address(final PtxOperand operand, final int declaredSpace) throws EmulatorException
    {
        if (operand.kind() != PtxOperand.Kind.ADDRESS)
        {
            throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "expected an address at line " + line);
        }
        final String name = operand.name();
        long offset = operand.value();
        int space = declaredSpace;
        final int base;
        if (name == null)
        {
            base = constant(0);
        }
        else
        {
            final Symbol symbol = symbols.get(name);
            if (symbol != null && symbol.kind() == SymbolKind.REGISTER)
            {
                base = (int)symbol.value();
            }
            else if (symbol != null && symbol.kind() == SymbolKind.FRAME)
            {
                space = Op.SPACE_FRAME;
                base = constant(0);
                offset += symbol.value();
            }
            else if (symbol != null && symbol.kind() == SymbolKind.KERNEL_PARAM)
            {
                space = Op.SPACE_KPARAM;
                base = constant(0);
                offset += symbol.value();
            }
            else if (symbol != null && symbol.kind() == SymbolKind.SHARED || module.sharedOffsets.containsKey(name))
            {
                space = Op.SPACE_SHARED;
                base = constant(0);
                offset += symbol != null ? symbol.value() : module.sharedOffsets.get(name);
            }
            else if (symbol != null && symbol.kind() == SymbolKind.DYNAMIC_SHARED || module.dynamicShared.contains(name))
            {
                space = Op.SPACE_SHARED;
                base = Op.SLOT_DYNAMIC_SHARED_BASE;
            }
            else if (module.globalAddresses.containsKey(name))
            {
                if (space != Op.SPACE_GENERIC)
                {
                    space = Op.SPACE_GLOBAL;
                }
                base = constant(module.globalAddresses.get(name));
            }
            else
            {
                throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "unknown symbol " + name + " at line " + line);
            }
        }
        return new long[]{ base, offset, space };
    }

    private void load(final Set<String> mods, final String type, final List<PtxOperand> ops) throws EmulatorException
    {
        final int width = vectorWidth(mods);
        final int size = sizeCode(type);
        final long[] address = address(ops.get(1), space(mods));
        int base = (int)address[0];
        final List<PtxOperand> targets = width == 1 ? List.of(ops.get(0)) : ops.get(0).elements();
        if (width > 1)
        {
            for (final PtxOperand target : targets)
            {
                if (!"_".equals(target.name()) && dst(target) == base)
                {
                    final int copy = scratch();
                    emit(Op.MOV, copy, base);
                    base = copy;
                    break;
                }
            }
        }
        final int space = (int)address[2];
        for (int i = 0; i < targets.size(); i++)
        {
            final PtxOperand target = targets.get(i);
            if ("_".equals(target.name()))
            {
                continue;
            }
            final int offset = constant(address[1] + (long)i * sizeBytes(size));
            if (space == Op.SPACE_GLOBAL && size == Op.SIZE_32)
            {
                emit(Op.LDG_32, dst(target), base, offset);
            }
            else if (space == Op.SPACE_GLOBAL && size == Op.SIZE_64)
            {
                emit(Op.LDG_64, dst(target), base, offset);
            }
            else
            {
                emit(Op.LD, dst(target), base, offset, size, space);
            }
        }
    }

    private void store(final Set<String> mods, final String type, final List<PtxOperand> ops) throws EmulatorException
    {
        final int width = vectorWidth(mods);
        final int size = sizeCode(type);
        final long[] address = address(ops.get(0), space(mods));
        final int base = (int)address[0];
        final int space = (int)address[2];
        final List<PtxOperand> values = width == 1 ? List.of(ops.get(1)) : ops.get(1).elements();
        for (int i = 0; i < values.size(); i++)
        {
            final int value = source(values.get(i), type);
            final int offset = constant(address[1] + (long)i * sizeBytes(size));
            if (space == Op.SPACE_GLOBAL && size == Op.SIZE_32)
            {
                emit(Op.STG_32, base, offset, value);
            }
            else if (space == Op.SPACE_GLOBAL && size == Op.SIZE_64)
            {
                emit(Op.STG_64, base, offset, value);
            }
            else
            {
                emit(Op.ST, base, offset, value, size, space);
            }
        }
    }

    private void atomic(
        final boolean returns,
        final String[] parts,
        final Set<String> mods,
        final String type,
        final List<PtxOperand> ops) throws EmulatorException
    {
        int operation = -1;
        for (int i = 1; i < parts.length; i++)
        {
            operation = switch (parts[i])
            {
                case "add" -> Op.ATOM_ADD;
                case "min" -> Op.ATOM_MIN;
                case "max" -> Op.ATOM_MAX;
                case "inc" -> Op.ATOM_INC;
                case "dec" -> Op.ATOM_DEC;
                case "cas" -> Op.ATOM_CAS;
                case "exch" -> Op.ATOM_EXCH;
                case "and" -> Op.ATOM_AND;
                case "or" -> Op.ATOM_OR;
                case "xor" -> Op.ATOM_XOR;
                default -> operation;
            };
        }
        final int typeCode = switch (type)
        {
            case "u32", "b32" -> Op.T_U32;
            case "s32" -> Op.T_S32;
            case "u64", "b64" -> Op.T_U64;
            case "s64" -> Op.T_S64;
            case "f32" -> Op.T_F32;
            case "f64" -> Op.T_F64;
            default -> throw unsupported();
        };
        if (operation < 0 || vectorWidth(mods) != 1)
        {
            throw unsupported();
        }
        int index = 0;
        final int d = returns ? dst(ops.get(index++)) : scratch();
        final long[] address = address(ops.get(index++), space(mods));
        final int b = source(ops.get(index++), type);
        final int c = operation == Op.ATOM_CAS ? source(ops.get(index), type) : b;
        final int space = (int)address[2];
        if (space != Op.SPACE_GLOBAL && space != Op.SPACE_SHARED && space != Op.SPACE_GENERIC)
        {
            throw unsupported();
        }
        emit(Op.ATOM, d, (int)address[0], constant(address[1]), b, c, operation | (typeCode << 8), space);
    }

    private void call(final List<PtxOperand> ops) throws EmulatorException
    {
        int index = 0;
        List<PtxOperand> returns = List.of();
        if (ops.get(0).kind() == PtxOperand.Kind.LIST)
        {
            returns = ops.get(0).elements();
            index++;
        }
        final PtxOperand target = ops.get(index++);
        final List<PtxOperand> arguments = index < ops.size() && ops.get(index).kind() == PtxOperand.Kind.LIST ?
            ops.get(index).elements() : List.of();
        if (target.kind() != PtxOperand.Kind.NAME || symbols.containsKey(target.name()))
        {
            throw new EmulatorException(CUDA_ERROR_NOT_SUPPORTED, "indirect calls are not supported (line " + line + ")");
        }
        final int[] argumentOffsets = new int[arguments.size()];
        final int[] argumentSizes = new int[arguments.size()];
        for (int i = 0; i < arguments.size(); i++)
        {
            final Symbol symbol = frameSymbol(arguments.get(i).name());
            argumentOffsets[i] = (int)symbol.value();
            argumentSizes[i] = symbol.size();
        }
        int returnOffset = -1;
        int returnSize = 0;
        if (!returns.isEmpty())
        {
            final Symbol symbol = frameSymbol(returns.get(0).name());
            returnOffset = (int)symbol.value();
            returnSize = symbol.size();
        }
        final String name = target.name();
        final PtxFunction callee = module.functions.get(name);
        if ("vprintf".equals(name))
        {
            if (argumentOffsets.length != 2)
            {
                throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "vprintf takes two arguments (line " + line + ")");
            }
            emit(Op.VPRINTF, argumentOffsets[0], argumentOffsets[1], returnOffset);
            return;
        }
        if ("__assertfail".equals(name))
        {
            emit(Op.ASSERTFAIL, argumentOffsets.length > 0 ? argumentOffsets[0] : -1,
                argumentOffsets.length > 1 ? argumentOffsets[1] : -1,
                argumentOffsets.length > 2 ? argumentOffsets[2] : -1);
            return;
        }
        if (callee == null || callee.external())
        {
            throw new EmulatorException(CUDA_ERROR_NOT_SUPPORTED, "call to unsupported external function " + name +
                " at line " + line);
        }
        callSites.add(new CompiledFunction.CallSite(name, argumentOffsets, argumentSizes, returnOffset, returnSize));
        compiled.calls = true;
        emit(Op.CALL, callSites.size() - 1);
    }

    private Symbol frameSymbol(final String name) throws EmulatorException
    {
        final Symbol symbol = symbols.get(name);
        if (symbol == null || symbol.kind() != SymbolKind.FRAME)
        {
            throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "call argument " + name + " is not a .param at line " + line);
        }
        return symbol;
    }

    private void barrier(final Set<String> mods, final List<PtxOperand> ops) throws EmulatorException
    {
        compiled.collective = true;
        if (mods.contains("warp"))
        {
            emit(Op.VOTE, scratch(), constant(1), ops.isEmpty() ? constant(0xFFFF_FFFFL) : source(ops.get(0), "b32"),
                4);
            return;
        }
        if (mods.contains("arrive"))
        {
            emit(Op.NOP);
            return;
        }
        if (mods.contains("red"))
        {
            final int kind = mods.contains("popc") ? Op.BAR_RED_POPC : mods.contains("and") ? Op.BAR_RED_AND :
                Op.BAR_RED_OR;
            emit(Op.BAR, kind, dst(ops.get(0)), source(ops.get(ops.size() - 1), "pred"), source(ops.get(1), "u32"),
                ops.size() > 3 ? source(ops.get(2), "u32") : -1);
            return;
        }
        emit(Op.BAR, Op.BAR_SYNC, 0, 0, ops.isEmpty() ? constant(0) : source(ops.get(0), "u32"),
            ops.size() > 1 ? source(ops.get(1), "u32") : -1);
    }

    private void shuffle(final String[] parts, final List<PtxOperand> ops) throws EmulatorException
    {
        compiled.collective = true;
        int mode = -1;
        for (final String part : parts)
        {
            mode = switch (part)
            {
                case "up" -> Op.SHFL_UP;
                case "down" -> Op.SHFL_DOWN;
                case "bfly" -> Op.SHFL_BFLY;
                case "idx" -> Op.SHFL_IDX;
                default -> mode;
            };
        }
        if (mode < 0)
        {
            throw unsupported();
        }
        final PtxOperand target = ops.get(0);
        final int p = target.kind() == PtxOperand.Kind.PAIR ? register(target.elements().get(0).name()) : -1;
        final int mask = ops.size() > 4 ? source(ops.get(4), "b32") : constant(0xFFFF_FFFFL);
        emit(Op.SHFL, dst(target), p, source(ops.get(1), "b32"), source(ops.get(2), "b32"),
            source(ops.get(3), "b32"), mask, mode);
    }

    private void vote(final Set<String> mods, final String type, final List<PtxOperand> ops) throws EmulatorException
    {
        compiled.collective = true;
        final int mode = mods.contains("all") ? Op.VOTE_ALL : mods.contains("any") ? Op.VOTE_ANY :
            mods.contains("uni") ? Op.VOTE_UNI : mods.contains("ballot") ? Op.VOTE_BALLOT : -1;
        if (mode < 0)
        {
            throw unsupported();
        }
        final int mask = ops.size() > 2 ? source(ops.get(2), "b32") : constant(0xFFFF_FFFFL);
        emit(Op.VOTE, dst(ops.get(0)), source(ops.get(1), "pred"), mask, mode);
    }

    private void redux(final String[] parts, final String type, final List<PtxOperand> ops) throws EmulatorException
    {
        compiled.collective = true;
        final int operation = switch (parts[2])
        {
            case "add" -> Op.ATOM_ADD;
            case "min" -> Op.ATOM_MIN;
            case "max" -> Op.ATOM_MAX;
            case "and" -> Op.ATOM_AND;
            case "or" -> Op.ATOM_OR;
            case "xor" -> Op.ATOM_XOR;
            default -> throw unsupported();
        };
        emit(Op.REDUX, dst(ops.get(0)), source(ops.get(1), type), source(ops.get(2), "b32"),
            operation | ((signed(type) ? Op.T_S32 : Op.T_U32) << 8));
    }

    // ---------------------------------------------------------------------------------------------------------
    // operands

    private int register(final String name) throws EmulatorException
    {
        if ("_".equals(name))
        {
            return scratch();
        }
        final Symbol symbol = symbols.get(name);
        if (symbol == null || symbol.kind() != SymbolKind.REGISTER)
        {
            throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "unknown register " + name + " at line " + line);
        }
        return (int)symbol.value();
    }

    private int dst(final PtxOperand operand) throws EmulatorException
    {
        if (operand.kind() == PtxOperand.Kind.NAME || operand.kind() == PtxOperand.Kind.PAIR)
        {
            return register(operand.name());
        }
        throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "expected a register destination at line " + line);
    }

    /** A source whose 16-bit integer type needs normalising before a 32-bit operation reads it. */
    private int intSource(final PtxOperand operand, final String type) throws EmulatorException
    {
        final int slot = source(operand, type);
        if (is16(type) && !"b16".equals(type) && operand.kind() == PtxOperand.Kind.NAME)
        {
            final int normalised = scratch();
            emit(signed(type) ? Op.EXT16_S : Op.EXT16_U, normalised, slot);
            return normalised;
        }
        return slot;
    }

    private int source(final PtxOperand operand, final String type) throws EmulatorException
    {
        switch (operand.kind())
        {
            case INT ->
            {
                if ("f32".equals(type))
                {
                    return constant(Float.floatToRawIntBits(operand.value()));
                }
                if ("f64".equals(type))
                {
                    return constant(Double.doubleToRawLongBits(operand.value()));
                }
                return constant(operand.value());
            }
            case FLOAT32 ->
            {
                if ("f64".equals(type))
                {
                    return constant(Double.doubleToRawLongBits(Float.intBitsToFloat((int)operand.value())));
                }
                return constant(operand.value());
            }
            case FLOAT64 ->
            {
                if ("f32".equals(type))
                {
                    return constant(Float.floatToRawIntBits((float)Double.longBitsToDouble(operand.value())));
                }
                return constant(operand.value());
            }
            case ADDRESS ->
            {
                final int base = source(PtxOperand.name(operand.name(), false), "u64");
                final int sum = scratch();
                emit(Op.ADD_I64, sum, base, constant(operand.value()));
                return sum;
            }
            case NAME, PAIR ->
            {
                final int slot = name(operand.name());
                if (operand.negated())
                {
                    final int negated = scratch();
                    emit(Op.PRED_NOT, negated, slot);
                    return negated;
                }
                return slot;
            }
            default -> throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "unexpected operand at line " + line);
        }
    }

    private int name(final String name) throws EmulatorException
    {
        final Symbol symbol = symbols.get(name);
        if (symbol != null)
        {
            switch (symbol.kind())
            {
                case REGISTER:
                    return (int)symbol.value();
                case SHARED:
                    return constant(symbol.value());
                case DYNAMIC_SHARED:
                    return Op.SLOT_DYNAMIC_SHARED_BASE;
                case KERNEL_PARAM:
                    return constant(Op.PARAM_WINDOW + symbol.value());
                case FRAME:
                    if (function.entry())
                    {
                        return constant(symbol.value());
                    }
                    final int slot = scratch();
                    emit(Op.MOV_FRAME, slot, (int)symbol.value());
                    return slot;
                default:
                    break;
            }
        }
        final Integer special = SPECIAL_REGISTERS.get(name);
        if (special != null)
        {
            return special;
        }
        if ("%clock".equals(name) || "%clock64".equals(name) || "%globaltimer".equals(name) ||
            "%clock_hi".equals(name) || "%globaltimer_lo".equals(name))
        {
            final int slot = scratch();
            emit("%clock".equals(name) || "%clock64".equals(name) || "%clock_hi".equals(name) ?
                Op.CLOCK : Op.GLOBALTIMER, slot);
            return slot;
        }
        if (name.startsWith("%reserved_smem_offset"))
        {
            final long offset = switch (name)
            {
                case "%reserved_smem_offset_1" -> Op.RESERVED_SHARED_BYTES / 2;
                case "%reserved_smem_offset_end", "%reserved_smem_offset_cap" -> Op.RESERVED_SHARED_BYTES;
                default -> 0;
            };
            if (name.endsWith("_cap"))
            {
                return constant(offset);
            }
            final int slot = scratch();
            emit(Op.ADD_I64, slot, Op.SLOT_RESERVED_SHARED, constant(offset));
            return slot;
        }
        if (name.startsWith("%envreg") || name.startsWith("%pm"))
        {
            return constant(0);
        }
        final Integer shared = module.sharedOffsets.get(name);
        if (shared != null)
        {
            return constant(shared);
        }
        if (module.dynamicShared.contains(name))
        {
            return Op.SLOT_DYNAMIC_SHARED_BASE;
        }
        final Long global = module.globalAddresses.get(name);
        if (global != null)
        {
            return constant(global);
        }
        if (name.startsWith("%"))
        {
            throw new EmulatorException(CUDA_ERROR_NOT_SUPPORTED, "unsupported register " + name + " at line " + line);
        }
        throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "unknown symbol " + name + " at line " + line);
    }

    private int constant(final long value)
    {
        final Integer existing = constants.get(value);
        if (existing != null)
        {
            return existing;
        }
        final int slot = nextSlot++;
        constants.put(value, slot);
        constantValues.add(new long[]{ slot, value });
        return slot;
    }

    private int scratch()
    {
        return nextSlot++;
    }

    private void labelFixup(final int index, final String label)
    {
        labelFixups.add(new Object[]{ index, label, line });
    }

    private int emit(final int op, final int... operands)
    {
        if (codeLength + Op.STRIDE > code.length)
        {
            code = Arrays.copyOf(code, code.length * 2);
            lines = Arrays.copyOf(lines, lines.length * 2);
        }
        final int at = codeLength;
        code[at] = op;
        System.arraycopy(operands, 0, code, at + 1, operands.length);
        lines[at / Op.STRIDE] = line;
        codeLength += Op.STRIDE;
        if (op == Op.SHFL || op == Op.VOTE || op == Op.ACTIVEMASK || op == Op.BAR || op == Op.REDUX ||
            op == Op.MATCH)
        {
            compiled.collective = true;
        }
        return at;
    }

    private EmulatorException unsupported()
    {
        return new EmulatorException(CUDA_ERROR_NOT_SUPPORTED, "unsupported instruction " + opcodeText + " at line " + line +
            " of " + function.name());
    }

    private static int align(final int value, final int alignment)
    {
        final int a = Math.max(alignment, 1);
        return (value + a - 1) / a * a;
    }

    private static boolean is64(final String type)
    {
        return type.endsWith("64");
    }

    private static boolean is32(final String type)
    {
        return type.endsWith("32");
    }

    private static boolean is16(final String type)
    {
        return "s16".equals(type) || "u16".equals(type) || "b16".equals(type);
    }

    private static boolean isFloat(final String type)
    {
        return type.startsWith("f") || type.startsWith("bf");
    }

    private static boolean isHalf(final String type)
    {
        return "f16".equals(type) || "bf16".equals(type) || "f16x2".equals(type) || "bf16x2".equals(type);
    }

    private static boolean signed(final String type)
    {
        return type.startsWith("s");
    }

    private static String widen(final String type)
    {
        return switch (type)
        {
            case "s16" -> "s32";
            case "u16" -> "u32";
            case "s32" -> "s64";
            default -> "u64";
        };
    }

    static int typeSize(final String type) throws EmulatorException
    {
        return PtxParser.typeSize(type);
    }
}
