package dev.bitfusion.cuda.generator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Generates the CUresult values, their names and their descriptions from the toolkit's cuda.h, for Java
 * ({@code dev.bitfusion.cuda.CuResult}) and for C ({@code cuda_errors.h}, {@code cuda_errors.c}), so that no
 * module keeps its own copy of NVIDIA's error codes.
 * <p>
 * The codes are every enumerator of {@code enum cudaError_enum}. A snapshot of them is committed
 * ({@code src/main/cuda/cuda-errors.txt} of the cuda module) so machines without the toolkit build the same
 * code; with the toolkit present the header wins and a drifted snapshot is reported (or refreshed with
 * {@code --update-snapshot}). What cuGetErrorString answers is not in cuda.h: those short texts are kept by
 * name in {@code src/main/cuda/cuda-error-strings.txt}, every name checked against the codes; a code without
 * one is described by its name ({@code CUDA_ERROR_MAP_FAILED}: "map failed").
 * <p>
 * Run as a single-file program, by the cuda module for Java and by each native build for C:
 * {@code java CudaErrorsGenerator.java CUDA_MODULE_DIR [--header CUDA_H] [--java DIR] [--c DIR] [--update-snapshot]};
 * the header defaults to {@code ${CUDA_HOME:-/usr/local/cuda}/include/cuda.h}.
 */
public final class CudaErrorsGenerator
{
    static final String SNAPSHOT = "src/main/cuda/cuda-errors.txt";
    static final String STRINGS = "src/main/cuda/cuda-error-strings.txt";
    private static final Pattern ENUM = Pattern.compile("typedef\\s+enum\\s+cudaError_enum\\s*\\{(.*?)\\}\\s*CUresult\\s*;",
        Pattern.DOTALL);
    private static final Pattern COMMENTS = Pattern.compile("/\\*.*?\\*/|//[^\\n]*", Pattern.DOTALL);
    private static final Pattern ENUMERATOR = Pattern.compile("^(CUDA_[A-Z0-9_]+)\\s*=\\s*(0[xX][0-9a-fA-F]+|\\d+)$");
    private static final Pattern VERSION = Pattern.compile("#define\\s+CUDA_VERSION\\s+(\\d+)");
    private static final Pattern SNAPSHOT_VERSION = Pattern.compile("CUDA_VERSION (\\d+)");

    /** One enumerator of {@code enum cudaError_enum}. */
    record ErrorCode(String name, int value)
    {
    }

    /** The codes of one cuda.h, with the CUDA_VERSION it declares. */
    record ErrorCodes(String cudaVersion, List<ErrorCode> codes)
    {
    }

    private CudaErrorsGenerator()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        final Path module = Path.of(args[0]).toAbsolutePath().normalize();
        Path header = Path.of(System.getenv().getOrDefault("CUDA_HOME", "/usr/local/cuda"), "include", "cuda.h");
        Path javaDir = null;
        Path cDir = null;
        boolean update = false;
        for (int i = 1; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--header" -> header = Path.of(args[++i]);
                case "--java" -> javaDir = Path.of(args[++i]);
                case "--c" -> cDir = Path.of(args[++i]);
                case "--update-snapshot", "--update-snapshot=true" -> update = true;
                case "--update-snapshot=false" -> update = false;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }

        final Path snapshot = module.resolve(SNAPSHOT);
        final ErrorCodes codes;
        if (Files.isReadable(header))
        {
            codes = parseHeader(Files.readString(header));
            final String fromHeader = snapshotText(codes);
            final String committed = Files.isReadable(snapshot) ? Files.readString(snapshot) : "";
            if (!fromHeader.equals(committed))
            {
                if (update)
                {
                    Files.writeString(snapshot, fromHeader);
                    System.out.println("cuda: updated " + snapshot + " from " + header);
                }
                else
                {
                    System.out.println("cuda: WARNING " + header + " differs from the committed " + snapshot +
                        "; generating from the header. Refresh the snapshot with -Dbitfusion.updateSymbols=true");
                }
            }
        }
        else
        {
            System.out.println("cuda: " + header + " not found; generating the error codes from the committed " + snapshot);
            codes = parseSnapshot(Files.readString(snapshot));
        }
        final Map<String, String> strings = parseStrings(Files.readString(module.resolve(STRINGS)), codes.codes());

        if (javaDir != null)
        {
            final Path file = javaDir.resolve("dev/bitfusion/cuda/CuResult.java");
            Files.createDirectories(file.getParent());
            Files.writeString(file, renderJava(codes, strings));
        }
        if (cDir != null)
        {
            Files.createDirectories(cDir);
            Files.writeString(cDir.resolve("cuda_errors.h"), renderHeader(codes));
            Files.writeString(cDir.resolve("cuda_errors.c"), renderTable(codes, strings));
        }
        System.out.println("cuda: " + codes.codes().size() + " CUresult codes of CUDA_VERSION " + codes.cudaVersion() +
            ", " + strings.size() + " with the driver's description");
    }

    /**
     * @param header the text of cuda.h.
     * @return the enumerators of {@code enum cudaError_enum}, in declaration order.
     * @throws IllegalStateException when the header has no such enum, or an enumerator is not a plain number.
     */
    static ErrorCodes parseHeader(final String header)
    {
        final Matcher body = ENUM.matcher(header);
        if (!body.find())
        {
            throw new IllegalStateException("cuda.h declares no 'typedef enum cudaError_enum { ... } CUresult;'");
        }
        final List<ErrorCode> codes = new ArrayList<>();
        for (final String item : COMMENTS.matcher(body.group(1)).replaceAll(" ").split(","))
        {
            final String enumerator = item.strip();
            if (enumerator.isEmpty())
            {
                continue;
            }
            final Matcher matcher = ENUMERATOR.matcher(enumerator.replaceAll("\\s+", " "));
            if (!matcher.matches())
            {
                throw new IllegalStateException("enum cudaError_enum: cannot read '" + enumerator + "'");
            }
            codes.add(new ErrorCode(matcher.group(1), Integer.decode(matcher.group(2))));
        }
        final Matcher version = VERSION.matcher(header);
        return checked(new ErrorCodes(version.find() ? version.group(1) : "?", codes));
    }

    /**
     * @param snapshot the text {@link #snapshotText} wrote.
     * @return the codes it records.
     */
    static ErrorCodes parseSnapshot(final String snapshot)
    {
        final List<ErrorCode> codes = new ArrayList<>();
        String version = "?";
        for (final String line : snapshot.split("\n"))
        {
            if (line.startsWith("#"))
            {
                final Matcher matcher = SNAPSHOT_VERSION.matcher(line);
                version = matcher.find() ? matcher.group(1) : version;
            }
            else if (!line.isBlank())
            {
                final String[] parts = line.strip().split("\\s+");
                codes.add(new ErrorCode(parts[0], Integer.parseInt(parts[1])));
            }
        }
        return checked(new ErrorCodes(version, codes));
    }

    /**
     * @return one line a code, in the header's order, under a line naming the header's CUDA_VERSION.
     */
    static String snapshotText(final ErrorCodes codes)
    {
        final StringBuilder out = new StringBuilder();
        out.append("# CUresult codes (enum cudaError_enum) of cuda.h CUDA_VERSION ").append(codes.cudaVersion())
            .append(", generated by CudaErrorsGenerator: do not edit by hand.\n");
        codes.codes().forEach(code -> out.append(code.name()).append(' ').append(code.value()).append('\n'));
        return out.toString();
    }

    /**
     * @param text  lines {@code NAME description}; blank lines and lines starting with {@code #} are skipped.
     * @param codes the codes the names must belong to.
     * @return description by name, in the file's order.
     * @throws IllegalStateException when a name is not a code of cuda.h or is given twice.
     */
    static Map<String, String> parseStrings(final String text, final List<ErrorCode> codes)
    {
        final Set<String> names = new HashSet<>();
        codes.forEach(code -> names.add(code.name()));
        final Map<String, String> strings = new LinkedHashMap<>();
        for (final String line : text.split("\n"))
        {
            if (line.isBlank() || line.startsWith("#"))
            {
                continue;
            }
            final String[] parts = line.strip().split("\\s+", 2);
            if (parts.length < 2 || !names.contains(parts[0]))
            {
                throw new IllegalStateException(STRINGS + ": '" + line + "' does not start with a CUresult name of cuda.h");
            }
            if (strings.put(parts[0], parts[1]) != null)
            {
                throw new IllegalStateException(STRINGS + ": " + parts[0] + " is described twice");
            }
        }
        return strings;
    }

    /**
     * @return the description cuGetErrorString gives: from the strings file, else the name in words.
     */
    static String description(final ErrorCode code, final Map<String, String> strings)
    {
        final String known = strings.get(code.name());
        return known != null ? known : code.name().replaceFirst("^CUDA_(ERROR_)?", "").toLowerCase().replace('_', ' ');
    }

    static String renderJava(final ErrorCodes codes, final Map<String, String> strings)
    {
        final StringBuilder java = new StringBuilder();
        java.append("package dev.bitfusion.cuda;\n\n");
        java.append("/**\n");
        java.append(" * CUresult values as the CUDA driver API defines them (cuda.h, CUDA_VERSION ").append(codes.cudaVersion())
            .append("). The wire carries them\n");
        java.append(" * unchanged, so the agent returns them to applications as they are; names and descriptions serve\n");
        java.append(" * cuGetErrorName and cuGetErrorString and messages to people.\n");
        java.append(" * <p>\n");
        java.append(" * Generated by CudaErrorsGenerator from cuda.h and cuda-error-strings.txt: do not edit.\n");
        java.append(" * <p>\n");
        java.append(" * Thread safety: stateless.\n");
        java.append(" */\n");
        java.append("public final class CuResult\n{\n");
        for (final ErrorCode code : codes.codes())
        {
            java.append("    /** ").append(javadoc(description(code, strings))).append(". */\n");
            java.append("    public static final int ").append(code.name()).append(" = ").append(code.value()).append(";\n\n");
        }
        java.append("    private CuResult()\n    {\n    }\n\n");
        java.append("""
                /**
                 * @param result a CUresult value.
                 * @return its enum name, e.g. "CUDA_ERROR_OUT_OF_MEMORY", or null when the value is not known, as
                 * cuGetErrorName reports an unknown value with CUDA_ERROR_INVALID_VALUE.
                 */
                public static String name(final int result)
                {
                    return switch (result)
                    {
            """);
        codes.codes().forEach(code -> java.append("            case ").append(code.name()).append(" -> \"")
            .append(code.name()).append("\";\n"));
        java.append("""
                        default -> null;
                    };
                }

                /**
                 * @param result a CUresult value.
                 * @return its description as cuGetErrorString gives it, or null when the value is not known.
                 */
                public static String description(final int result)
                {
                    return switch (result)
                    {
            """);
        codes.codes().forEach(code -> java.append("            case ").append(code.name()).append(" -> \"")
            .append(escape(description(code, strings))).append("\";\n"));
        java.append("""
                        default -> null;
                    };
                }

                /**
                 * @param result a CUresult value.
                 * @return "NAME (value): description" for messages to people, also for unknown values.
                 */
                public static String describe(final int result)
                {
                    final String name = name(result);
                    return name == null ? "CUresult " + result : name + " (" + result + "): " + description(result);
                }
            }
            """);
        return java.toString();
    }

    static String renderHeader(final ErrorCodes codes)
    {
        final StringBuilder c = new StringBuilder();
        c.append("/* Generated by CudaErrorsGenerator from cuda.h (CUDA_VERSION ").append(codes.cudaVersion())
            .append("): do not edit. */\n");
        c.append("""
            #ifndef BITFUSION_CUDA_ERRORS_H
            #define BITFUSION_CUDA_ERRORS_H

            /*
             * The CUresult values of cuda.h's enum cudaError_enum, for code built without the toolkit's headers
             * (include this or cuda.h, not both).
             */
            enum
            {
            """);
        codes.codes().forEach(code -> c.append("    ").append(code.name()).append(" = ").append(code.value()).append(",\n"));
        c.append("""
            };

            /** A CUresult with its name (cuGetErrorName) and description (cuGetErrorString). */
            typedef struct
            {
                int code;
                const char *name;
                const char *description;
            } bf_cuda_error;

            /** Every CUresult of cuda.h, ordered by code (cuda_errors.c). */
            extern const bf_cuda_error bf_cuda_errors[];
            extern const int bf_cuda_error_count;

            /** @return the row of a CUresult, or NULL when cuda.h does not define it. */
            const bf_cuda_error *bf_cuda_error_find(int code);

            #endif
            """);
        return c.toString();
    }

    static String renderTable(final ErrorCodes codes, final Map<String, String> strings)
    {
        final List<ErrorCode> byCode = new ArrayList<>(codes.codes());
        byCode.sort((a, b) -> Integer.compare(a.value(), b.value()));
        final StringBuilder c = new StringBuilder();
        c.append("/* Generated by CudaErrorsGenerator from cuda.h (CUDA_VERSION ").append(codes.cudaVersion())
            .append(") and cuda-error-strings.txt: do not edit. */\n");
        c.append("#include <stddef.h>\n\n#include \"cuda_errors.h\"\n\n");
        c.append("const bf_cuda_error bf_cuda_errors[] = {\n");
        byCode.forEach(code -> c.append("    {").append(code.name()).append(", \"").append(code.name()).append("\", \"")
            .append(escape(description(code, strings))).append("\"},\n"));
        c.append("};\n\nconst int bf_cuda_error_count = ").append(byCode.size()).append(";\n\n");
        c.append("""
            const bf_cuda_error *bf_cuda_error_find(int code)
            {
                int low = 0;
                int high = bf_cuda_error_count - 1;
                while (low <= high)
                {
                    const int middle = low + (high - low) / 2;
                    if (bf_cuda_errors[middle].code == code)
                    {
                        return &bf_cuda_errors[middle];
                    }
                    if (bf_cuda_errors[middle].code < code)
                    {
                        low = middle + 1;
                    }
                    else
                    {
                        high = middle - 1;
                    }
                }
                return NULL;
            }
            """);
        return c.toString();
    }

    private static ErrorCodes checked(final ErrorCodes codes)
    {
        final Set<String> names = new HashSet<>();
        final Set<Integer> values = new HashSet<>();
        for (final ErrorCode code : codes.codes())
        {
            if (!names.add(code.name()) || !values.add(code.value()))
            {
                throw new IllegalStateException("CUresult " + code.name() + " = " + code.value() +
                    " repeats a name or value; name lookups need each once");
            }
        }
        if (codes.codes().isEmpty())
        {
            throw new IllegalStateException("no CUresult codes found");
        }
        return codes;
    }

    /** Both Java and C string literals: the strings file is text, so only quotes and backslashes need it. */
    private static String escape(final String text)
    {
        return text.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static String javadoc(final String text)
    {
        return text.replace("*/", "*&#47;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
