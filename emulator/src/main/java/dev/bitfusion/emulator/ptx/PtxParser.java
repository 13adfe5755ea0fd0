package dev.bitfusion.emulator.ptx;

import dev.bitfusion.emulator.EmulatorException;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_INVALID_PTX;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_NOT_SUPPORTED;

/**
 * Parses PTX text into a {@link PtxModule}. Instructions are kept as written; the decoder gives them
 * meaning. Debug sections and line directives are skipped.
 * <p>
 * Thread safety: not thread safe; one parser per load.
 */
public final class PtxParser
{
    private final List<PtxLexer.Token> tokens;
    private int position;

    private PtxParser(final List<PtxLexer.Token> tokens)
    {
        this.tokens = tokens;
    }

    /**
     * @param source PTX text.
     * @return the parsed module.
     * @throws EmulatorException 218 (CUDA_ERROR_INVALID_PTX) when the text is not PTX this parser understands.
     */
    public static PtxModule parse(final String source) throws EmulatorException
    {
        final PtxParser parser = new PtxParser(PtxLexer.tokenize(source));
        try
        {
            return parser.module();
        }
        catch (final IndexOutOfBoundsException | NumberFormatException ex)
        {
            throw new EmulatorException(CUDA_ERROR_INVALID_PTX,
                "malformed PTX near line " + parser.line() + ": " + ex.getMessage());
        }
    }

    private PtxModule module() throws EmulatorException
    {
        int major = 0;
        int minor = 0;
        String target = "";
        final List<PtxVariable> variables = new ArrayList<>();
        final List<PtxFunction> functions = new ArrayList<>();
        boolean sawVersion = false;

        while (position < tokens.size())
        {
            final String word = peek();
            switch (word)
            {
                case ".version" ->
                {
                    next();
                    final String[] parts = next().split("\\.");
                    major = Integer.parseInt(parts[0]);
                    minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
                    sawVersion = true;
                }
                case ".target" ->
                {
                    next();
                    target = next();
                    while (",".equals(peek()))
                    {
                        next();
                        next();
                    }
                }
                case ".address_size" ->
                {
                    next();
                    final String size = next();
                    if (!"64".equals(size))
                    {
                        throw new EmulatorException(CUDA_ERROR_INVALID_PTX,
                            "only .address_size 64 is supported, found " + size);
                    }
                }
                case ".file", ".loc" -> skipLine();
                case ".section" -> skipSection();
                case ";" -> next();
                default ->
                {
                    if (!sawVersion)
                    {
                        throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "not PTX: expected .version at line " + line());
                    }
                    topLevel(variables, functions);
                }
            }
        }
        if (!sawVersion)
        {
            throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "not PTX: no .version directive");
        }
        return new PtxModule(major, minor, target, variables, functions);
    }

    private void topLevel(final List<PtxVariable> variables, final List<PtxFunction> functions)
        throws EmulatorException
    {
        boolean external = false;
        while (true)
        {
            final String word = peek();
            if (".visible".equals(word) || ".weak".equals(word) || ".common".equals(word))
            {
                next();
            }
            else if (".extern".equals(word))
            {
                external = true;
                next();
            }
            else
            {
                break;
            }
        }
        final String word = peek();
        if (".entry".equals(word) || ".func".equals(word))
        {
            functions.add(function(external));
        }
        else if (".global".equals(word) || ".const".equals(word) || ".shared".equals(word) || ".local".equals(word))
        {
            variables.addAll(declaration(external));
        }
        else
        {
            throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "unexpected '" + word + "' at line " + line());
        }
    }

    private PtxFunction function(final boolean external) throws EmulatorException
    {
        final int line = line();
        final boolean entry = ".entry".equals(next());
        List<PtxVariable> returns = List.of();
        if ("(".equals(peek()))
        {
            returns = parameterList();
        }
        final String name = next();
        List<PtxVariable> params = List.of();
        if ("(".equals(peek()))
        {
            params = parameterList();
        }
        int maxThreads = 0;
        while (peek().startsWith(".") && position < tokens.size())
        {
            final String directive = next();
            final List<Long> values = new ArrayList<>();
            while (isNumber(peek()))
            {
                values.add(Long.decode(next()));
                if (",".equals(peek()))
                {
                    next();
                }
            }
            if (".maxntid".equals(directive) || ".reqntid".equals(directive))
            {
                long product = 1;
                for (final long value : values)
                {
                    product *= value;
                }
                maxThreads = (int)product;
            }
        }
        if (";".equals(peek()))
        {
            next();
            return new PtxFunction(name, entry, true, returns, params, List.of(), maxThreads, line);
        }
        expect("{");
        final List<PtxStatement> body = new ArrayList<>();
        int depth = 1;
        while (depth > 0)
        {
            final String word = peek();
            if ("{".equals(word))
            {
                next();
                depth++;
                body.add(new PtxStatement(PtxStatement.Kind.SCOPE_OPEN, null, null, null));
            }
            else if ("}".equals(word))
            {
                next();
                depth--;
                if (depth > 0)
                {
                    body.add(new PtxStatement(PtxStatement.Kind.SCOPE_CLOSE, null, null, null));
                }
            }
            else if (".loc".equals(word) || ".file".equals(word))
            {
                skipLine();
            }
            else if (".pragma".equals(word))
            {
                skipStatement();
            }
            else if (".reg".equals(word) || ".local".equals(word) || ".shared".equals(word) ||
                ".param".equals(word) || ".const".equals(word) || ".global".equals(word))
            {
                for (final PtxVariable variable : declaration(false))
                {
                    body.add(new PtxStatement(PtxStatement.Kind.DECLARATION, null, null, variable));
                }
            }
            else if (".extern".equals(word))
            {
                next();
                for (final PtxVariable variable : declaration(true))
                {
                    body.add(new PtxStatement(PtxStatement.Kind.DECLARATION, null, null, variable));
                }
            }
            else if (position + 1 < tokens.size() && ":".equals(tokens.get(position + 1).text()) && !word.startsWith("@"))
            {
                next();
                next();
                body.add(new PtxStatement(PtxStatement.Kind.LABEL, word, null, null));
            }
            else if (";".equals(word))
            {
                next();
            }
            else
            {
                body.add(new PtxStatement(PtxStatement.Kind.INSTRUCTION, null, instruction(), null));
            }
        }
        return new PtxFunction(name, entry, external, returns, params, body, maxThreads, line);
    }

    private List<PtxVariable> parameterList() throws EmulatorException
    {
        expect("(");
        final List<PtxVariable> params = new ArrayList<>();
        while (!")".equals(peek()))
        {
            if (",".equals(peek()))
            {
                next();
                continue;
            }
            params.addAll(declarationBody(false, false));
        }
        expect(")");
        return params;
    }

    private List<PtxVariable> declaration(final boolean external) throws EmulatorException
    {
        final List<PtxVariable> variables = declarationBody(external, true);
        expect(";");
        return variables;
    }

    private List<PtxVariable> declarationBody(final boolean external, final boolean allowList)
        throws EmulatorException
    {
        final int line = line();
        String space = next().substring(1);
        int alignment = 0;
        String type = null;
        int vector = 1;
        while (peek().startsWith("."))
        {
            final String word = next();
            switch (word)
            {
                case ".align" -> alignment = Integer.parseInt(next());
                case ".v2" -> vector = 2;
                case ".v4" -> vector = 4;
                case ".v8" -> vector = 8;
                case ".ptr", ".global", ".const", ".shared", ".local", ".param" ->
                {
                    // .ptr attributes on kernel parameters only describe the pointee.
                }
                default -> type = word.substring(1);
            }
        }
        if (type == null)
        {
            throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "declaration without a type at line " + line);
        }
        final int elementSize = typeSize(type) * vector;
        if (alignment == 0)
        {
            alignment = Math.max(1, elementSize);
        }

        final List<PtxVariable> variables = new ArrayList<>();
        while (true)
        {
            final String name = next();
            long count = 1;
            boolean ranged = false;
            if ("<".equals(peek()))
            {
                next();
                count = Long.decode(next());
                expect(">");
                ranged = true;
            }
            boolean array = false;
            while ("[".equals(peek()))
            {
                next();
                array = true;
                if ("]".equals(peek()))
                {
                    count = -1;
                }
                else
                {
                    count = (count < 0 ? 1 : count) * Long.decode(next());
                }
                expect("]");
            }
            byte[] init = null;
            final List<PtxVariable.SymbolReference> symbols = new ArrayList<>();
            if ("=".equals(peek()))
            {
                next();
                final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                initialiser(type, elementSize, bytes, symbols);
                if (array && count < 0)
                {
                    count = bytes.size() / elementSize;
                }
                final byte[] raw = bytes.toByteArray();
                init = new byte[(int)Math.max(raw.length, count * elementSize)];
                System.arraycopy(raw, 0, init, 0, Math.min(raw.length, init.length));
            }
            variables.add(new PtxVariable(
                space, name, alignment, type, elementSize, count, ranged, init, symbols, external, line));
            if (allowList && ",".equals(peek()))
            {
                next();
                continue;
            }
            return variables;
        }
    }

    private void initialiser(
        final String type,
        final int elementSize,
        final ByteArrayOutputStream bytes,
        final List<PtxVariable.SymbolReference> symbols) throws EmulatorException
    {
        if ("{".equals(peek()))
        {
            next();
            while (!"}".equals(peek()))
            {
                if (",".equals(peek()))
                {
                    next();
                    continue;
                }
                initialiser(type, elementSize, bytes, symbols);
            }
            next();
            return;
        }
        final boolean negative = "-".equals(peek());
        if (negative)
        {
            next();
        }
        String word = next();
        if ("generic".equals(word))
        {
            expect("(");
            word = next();
            expect(")");
        }
        final long bits;
        if (isNumber(word))
        {
            final PtxOperand literal = literal(word, negative);
            final boolean floatType = type.startsWith("f");
            if (literal.kind() == PtxOperand.Kind.INT)
            {
                bits = floatType ?
                    (elementSize == 4 ? Float.floatToRawIntBits(literal.value()) :
                    Double.doubleToRawLongBits(literal.value())) : literal.value();
            }
            else if (literal.kind() == PtxOperand.Kind.FLOAT32)
            {
                bits = elementSize == 8 ?
                    Double.doubleToRawLongBits(Float.intBitsToFloat((int)literal.value())) : literal.value();
            }
            else
            {
                bits = elementSize == 4 ?
                    Float.floatToRawIntBits((float)Double.longBitsToDouble(literal.value())) : literal.value();
            }
        }
        else
        {
            symbols.add(new PtxVariable.SymbolReference(bytes.size(), word));
            bits = 0;
            if ("+".equals(peek()))
            {
                throw new EmulatorException(CUDA_ERROR_NOT_SUPPORTED,
                    "symbol offsets in initialisers are not supported (line " +
                    line() + ")");
            }
        }
        for (int i = 0; i < elementSize; i++)
        {
            bytes.write((int)(bits >>> (8 * i)));
        }
    }

    private PtxInstruction instruction() throws EmulatorException
    {
        final int line = line();
        String guard = null;
        boolean guardNegated = false;
        if ("@".equals(peek()))
        {
            next();
            if ("!".equals(peek()))
            {
                next();
                guardNegated = true;
            }
            guard = next();
        }
        final String opcode = next();
        final List<PtxOperand> operands = new ArrayList<>(4);
        while (!";".equals(peek()))
        {
            if (",".equals(peek()))
            {
                next();
                continue;
            }
            operands.add(operand());
        }
        next();
        return new PtxInstruction(guard, guardNegated, opcode, operands, line);
    }

    private PtxOperand operand() throws EmulatorException
    {
        final String word = peek();
        if ("[".equals(word))
        {
            next();
            String base = null;
            long offset = 0;
            while (!"]".equals(peek()))
            {
                final String part = next();
                if ("+".equals(part))
                {
                    continue;
                }
                if ("-".equals(part))
                {
                    offset -= literal(next(), false).value();
                }
                else if (isNumber(part))
                {
                    offset += literal(part, false).value();
                }
                else
                {
                    base = part;
                }
            }
            next();
            return new PtxOperand(PtxOperand.Kind.ADDRESS, base, offset, false, List.of());
        }
        if ("{".equals(word) || "(".equals(word))
        {
            next();
            final String close = "{".equals(word) ? "}" : ")";
            final List<PtxOperand> elements = new ArrayList<>();
            while (!close.equals(peek()))
            {
                if (",".equals(peek()))
                {
                    next();
                    continue;
                }
                elements.add(operand());
            }
            next();
            return new PtxOperand(
                "{".equals(word) ? PtxOperand.Kind.VECTOR : PtxOperand.Kind.LIST, null, 0, false, elements);
        }
        if ("!".equals(word))
        {
            next();
            return PtxOperand.name(next(), true);
        }
        if ("-".equals(word))
        {
            next();
            return literal(next(), true);
        }
        next();
        if (isNumber(word))
        {
            return literal(word, false);
        }
        if ("|".equals(peek()))
        {
            next();
            final String second = next();
            return new PtxOperand(PtxOperand.Kind.PAIR, word, 0, false, List.of(PtxOperand.name(second, false)));
        }
        if ("+".equals(peek()) && position + 1 < tokens.size() && isNumber(tokens.get(position + 1).text()))
        {
            next();
            final long offset = literal(next(), false).value();
            return new PtxOperand(PtxOperand.Kind.ADDRESS, word, offset, true, List.of());
        }
        return PtxOperand.name(word, false);
    }

    private PtxOperand literal(final String text, final boolean negative)
    {
        final String word = text.endsWith("U") || text.endsWith("u") ? text.substring(0, text.length() - 1) : text;
        if (word.length() == 10 && (word.startsWith("0f") || word.startsWith("0F")))
        {
            final int bits = (int)Long.parseLong(word.substring(2), 16);
            return new PtxOperand(PtxOperand.Kind.FLOAT32, null, negative ? bits ^ 0x8000_0000 : bits, false, List.of());
        }
        if (word.length() == 18 && (word.startsWith("0d") || word.startsWith("0D")))
        {
            final long bits = Long.parseUnsignedLong(word.substring(2), 16);
            return new PtxOperand(PtxOperand.Kind.FLOAT64, null, negative ? bits ^ Long.MIN_VALUE : bits, false, List.of());
        }
        if (word.contains(".") || ((word.contains("e") || word.contains("E")) && !word.startsWith("0x") &&
            !word.startsWith("0X")))
        {
            String number = word;
            if (number.endsWith("e") || number.endsWith("E"))
            {
                final String sign = next();
                number = number + sign + next();
            }
            final double value = Double.parseDouble(number);
            return new PtxOperand(
                PtxOperand.Kind.FLOAT64, null, Double.doubleToRawLongBits(negative ? -value : value), false, List.of());
        }
        final long value;
        if (word.startsWith("0x") || word.startsWith("0X"))
        {
            value = Long.parseUnsignedLong(word.substring(2), 16);
        }
        else if (word.startsWith("0b") || word.startsWith("0B"))
        {
            value = Long.parseUnsignedLong(word.substring(2), 2);
        }
        else if (word.length() > 1 && word.startsWith("0"))
        {
            value = Long.parseUnsignedLong(word.substring(1), 8);
        }
        else
        {
            value = Long.parseUnsignedLong(word);
        }
        return PtxOperand.integer(negative ? -value : value);
    }

    static boolean isNumber(final String word)
    {
        if (word.isEmpty())
        {
            return false;
        }
        final char c = word.charAt(0);
        return c >= '0' && c <= '9';
    }

    /**
     * @param type a PTX type name without the dot.
     * @return its size in bytes.
     * @throws EmulatorException 218 for an unknown type.
     */
    public static int typeSize(final String type) throws EmulatorException
    {
        return switch (type)
        {
            case "b8", "u8", "s8", "pred" -> 1;
            case "b16", "u16", "s16", "f16", "bf16" -> 2;
            case "b32", "u32", "s32", "f32", "f16x2", "bf16x2", "tf32" -> 4;
            case "b64", "u64", "s64", "f64" -> 8;
            case "b128" -> 16;
            default -> throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "unknown type ." + type);
        };
    }

    private void skipLine()
    {
        final int line = line();
        while (position < tokens.size() && tokens.get(position).line() == line)
        {
            position++;
        }
    }

    private void skipStatement()
    {
        while (!";".equals(next()))
        {
            // skip to the end of the statement
        }
    }

    private void skipSection()
    {
        while (!"{".equals(next()))
        {
            // skip the section name
        }
        int depth = 1;
        while (depth > 0)
        {
            final String word = next();
            if ("{".equals(word))
            {
                depth++;
            }
            else if ("}".equals(word))
            {
                depth--;
            }
        }
    }

    private void expect(final String text) throws EmulatorException
    {
        final int line = line();
        final String word = next();
        if (!text.equals(word))
        {
            throw new EmulatorException(CUDA_ERROR_INVALID_PTX,
                "expected '" + text + "' but found '" + word + "' at line " + line);
        }
    }

    private String peek()
    {
        return position < tokens.size() ? tokens.get(position).text() : "";
    }

    private String next()
    {
        return tokens.get(position++).text();
    }

    private int line()
    {
        return position < tokens.size() ? tokens.get(position).line() : (tokens.isEmpty() ? 0 : tokens.get(tokens.size() - 1).line());
    }
}
