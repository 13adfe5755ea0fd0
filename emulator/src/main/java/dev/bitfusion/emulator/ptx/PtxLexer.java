package dev.bitfusion.emulator.ptx;

import dev.bitfusion.emulator.EmulatorException;

import java.util.ArrayList;
import java.util.List;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_INVALID_PTX;

/**
 * Splits PTX text into tokens: words (identifiers, directives, registers, numbers), strings and single
 * punctuation characters, each with its line number. Comments are dropped.
 * <p>
 * Thread safety: not thread safe; one lexer per load.
 */
final class PtxLexer
{
    private PtxLexer()
    {
    }

    /**
     * A token and the line it starts on.
     *
     * @param text the token's text; strings keep their quotes.
     * @param line 1-based line number.
     */
    record Token(String text, int line)
    {
    }

    static List<Token> tokenize(final String source) throws EmulatorException
    {
        final List<Token> tokens = new ArrayList<>(source.length() / 4);
        final int length = source.length();
        int line = 1;
        int i = 0;
        while (i < length)
        {
            final char c = source.charAt(i);
            if (c == '\n')
            {
                line++;
                i++;
            }
            else if (c == ' ' || c == '\t' || c == '\r' || c == '\f')
            {
                i++;
            }
            else if (c == '/' && i + 1 < length && source.charAt(i + 1) == '/')
            {
                while (i < length && source.charAt(i) != '\n')
                {
                    i++;
                }
            }
            else if (c == '/' && i + 1 < length && source.charAt(i + 1) == '*')
            {
                final int end = source.indexOf("*/", i + 2);
                if (end < 0)
                {
                    throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "unterminated comment at line " + line);
                }
                for (int k = i; k < end; k++)
                {
                    if (source.charAt(k) == '\n')
                    {
                        line++;
                    }
                }
                i = end + 2;
            }
            else if (c == '"')
            {
                int end = i + 1;
                while (end < length && source.charAt(end) != '"')
                {
                    end += source.charAt(end) == '\\' ? 2 : 1;
                }
                if (end >= length)
                {
                    throw new EmulatorException(CUDA_ERROR_INVALID_PTX, "unterminated string at line " + line);
                }
                tokens.add(new Token(source.substring(i, end + 1), line));
                i = end + 1;
            }
            else if (isWordChar(c))
            {
                int end = i + 1;
                while (end < length && isWordChar(source.charAt(end)))
                {
                    end++;
                }
                tokens.add(new Token(source.substring(i, end), line));
                i = end;
            }
            else if (c == 0)
            {
                break;
            }
            else
            {
                tokens.add(new Token(String.valueOf(c), line));
                i++;
            }
        }
        return tokens;
    }

    private static boolean isWordChar(final char c)
    {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '$' || c == '%' || c == '.';
    }
}
