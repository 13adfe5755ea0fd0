import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Generates both halves of the bridge from one declarative table (src/main/bridge/forwarded-calls.txt):
 * the C exports of our libcuda.so.1 that marshal each forwarded driver call to JNI, and the Java
 * trampolines (dev.bitfusion.bridge.DriverBridge) that call the client runtime. The JNI signature that
 * joins them is derived here from the row, never written by hand; javac then checks the trampolines
 * against the runtime's methods, and BridgeSignaturesTest checks the C table against the compiled class.
 * <p>
 * The table names C types as cuda.h does. The generated C does not include cuda.h (the library builds on
 * machines without the toolkit): types are lowered to ABI-identical C types, handles and pointers to
 * {@code void *}. When cuda.h is present every row's parameter types are checked against its declaration.
 * <p>
 * The NVML stand-in (libnvidia-ml.so.1) is generated the same way from a second table
 * (src/main/nvml/nvml-calls.txt): its exports marshal to trampolines of the same DriverBridge, which call the
 * runtime's NVML answers, and every other NVML function of the snapshot src/main/nvml/nvml-symbols.txt is a
 * weak export that returns NVML_ERROR_NOT_SUPPORTED and names itself once.
 * <p>
 * Run as a single-file program:
 * {@code java BridgeGenerator.java TABLE CUDA_HEADER|auto C_OUT_DIR JAVA_OUT_DIR NVML_TABLE NVML_SYMBOLS}, or
 * {@code java BridgeGenerator.java --update-nvml-symbols NVML_HEADER NVML_SYMBOLS} to refresh the snapshot.
 */
public final class BridgeGenerator
{
    private static final Pattern ROW = Pattern.compile("^((?:cu|nvml)\\w+)\\s+(-|ptds|ptsz)\\s+(\\w+)\\.(\\w+)\\s+(-|release)\\s+\\((.*)\\)\\s*$");
    private static final Pattern PARAMETER = Pattern.compile("^(value|stream|in|out|string|bytes:\\w+|function|data)\\s+(.+?)\\s*(\\w+)$");
    private static final Pattern DECLARATION = Pattern.compile("CUresult (cu\\w+) ?\\(([^;]*?)\\);");

    /** cuda.h typedefs of integers passed by value, with the C type they are and whether they are signed. */
    private static final Map<String, String> INT_TYPES = Map.ofEntries(
        Map.entry("int", "int"), Map.entry("unsigned int", "unsigned int"), Map.entry("unsigned short", "unsigned short"),
        Map.entry("unsigned char", "unsigned char"), Map.entry("CUdevice", "int"), Map.entry("cuuint32_t", "unsigned int"),
        Map.entry("CUdevice_attribute", "int"), Map.entry("CUdevice_P2PAttribute", "int"), Map.entry("CUlimit", "int"),
        Map.entry("CUpointer_attribute", "int"), Map.entry("CUfunction_attribute", "int"), Map.entry("CUfunc_cache", "int"),
        Map.entry("CUtensorMapDataType", "int"), Map.entry("CUtensorMapInterleave", "int"),
        Map.entry("CUtensorMapSwizzle", "int"), Map.entry("CUtensorMapL2promotion", "int"),
        Map.entry("CUtensorMapFloatOOBfill", "int"));
    private static final Map<String, String> LONG_TYPES = Map.of(
        "size_t", "size_t", "unsigned long long", "unsigned long long", "cuuint64_t", "unsigned long long",
        "CUdeviceptr", "unsigned long long");
    private static final Set<String> HANDLES = Set.of(
        "CUcontext", "CUmodule", "CUfunction", "CUstream", "CUevent", "CUlibrary", "CUkernel", "CUhostFn",
        "CUstreamCallback", "void *", "nvmlDevice_t");

    /** One argument: how it travels, its type as cuda.h names it, its name. */
    record Parameter(String kind, String type, String name)
    {
        boolean isInt()
        {
            return INT_TYPES.containsKey(type);
        }

        /** The ABI-identical C type the generated export declares. */
        String cType()
        {
            if (isInt())
            {
                return INT_TYPES.get(type);
            }
            if (LONG_TYPES.containsKey(type))
            {
                return LONG_TYPES.get(type);
            }
            if (HANDLES.contains(type))
            {
                return "void *";
            }
            if (type.endsWith("*"))
            {
                return type.startsWith("const ") && type.indexOf('*') == type.length() - 1 ? "const void *" : "void *";
            }
            throw new IllegalArgumentException("type '" + type + "' of " + name +
                " is unknown to BridgeGenerator: add it to INT_TYPES, LONG_TYPES or HANDLES");
        }

        boolean isPointer()
        {
            return cType().endsWith("*");
        }

        char jniType()
        {
            return isInt() ? 'I' : 'J';
        }

        String javaType()
        {
            return isInt() ? "int" : "long";
        }

        String javaName()
        {
            final StringBuilder out = new StringBuilder();
            boolean upper = false;
            for (final char c : name.toCharArray())
            {
                if (c == '_')
                {
                    upper = true;
                }
                else
                {
                    out.append(upper ? Character.toUpperCase(c) : c);
                    upper = false;
                }
            }
            final String camel = out.toString();
            return camel.length() > 1 && Character.isUpperCase(camel.charAt(1)) ? camel :
                Character.toLowerCase(camel.charAt(0)) + camel.substring(1);
        }

        /** The JNI argument the export passes. */
        String jniArgument(final boolean perThreadTwin)
        {
            if (kind.equals("stream") && perThreadTwin)
            {
                return "BF_PTR(" + name + " == NULL ? BF_STREAM_PER_THREAD : " + name + ")";
            }
            return isPointer() ? "BF_PTR(" + name + ")" : isInt() ? "(jint)" + name : "(jlong)" + name;
        }

        String traceFormat()
        {
            if (isPointer())
            {
                return "%p";
            }
            if (isInt())
            {
                return cType().startsWith("unsigned") ? "%u" : "%d";
            }
            return type.equals("CUdeviceptr") ? "%#llx" : "%llu";
        }

        String traceArgument()
        {
            if (isPointer())
            {
                return "(const void *)" + name;
            }
            return isInt() ? name : "(unsigned long long)" + name;
        }
    }

    /** One row of the table. */
    record Call(String symbol, String twin, String target, String method, boolean release, List<Parameter> parameters)
    {
        /** An NVML call of libnvidia-ml.so.1, rather than a driver call of libcuda.so.1. */
        boolean nvml()
        {
            return symbol.startsWith("nvml");
        }

        String descriptor()
        {
            final StringBuilder out = new StringBuilder("(");
            parameters.forEach(p -> out.append(p.jniType()));
            return out.append(")I").toString();
        }
    }

    /**
     * A method of DriverBridge the bridge's own C calls or implements, outside the table: the runtime's start
     * and exit, and the natives through which the runtime calls the program's host functions. Their JNI
     * signatures are derived here like the calls', never typed by hand in C.
     *
     * @param name       the Java method's name.
     * @param returns    its Java return type, {@code int} or {@code void}.
     * @param parameters its Java parameter types and names.
     * @param body       the Java body of a static method, or null for a native one.
     * @param cFunction  for a native: the hand-written C function that implements it.
     * @param doc        what it is for.
     */
    record Entry(String name, String returns, List<String[]> parameters, String body, String cFunction, String doc)
    {
        String descriptor()
        {
            final StringBuilder out = new StringBuilder("(");
            parameters.forEach(p -> out.append(p[0].equals("int") ? 'I' : 'J'));
            return out.append(')').append(returns.equals("int") ? 'I' : 'V').toString();
        }

        String javaParameters()
        {
            final List<String> declared = new ArrayList<>();
            parameters.forEach(p -> declared.add("final " + p[0] + " " + p[1]));
            return String.join(", ", declared);
        }

        String cParameters()
        {
            final StringBuilder out = new StringBuilder("JNIEnv *env, jclass bridge");
            parameters.forEach(p -> out.append(", ").append(p[0].equals("int") ? "jint " : "jlong ").append(p[1]));
            return out.toString();
        }
    }

    private static final List<Entry> ENTRIES = List.of(
        new Entry("bridgeStart", "int", List.<String[]>of(new String[] {"int", "embedded"}),
            "return BridgeRuntime.bootstrap(embedded != 0);", null,
            "Called once by the bridge on the first forwarded call: builds the runtime, or takes the agent's; "
            + "{@code embedded} is 1 when the bridge created this JVM inside a native program."),
        new Entry("bridgeExit", "void", List.of(), "BridgeRuntime.shutdown();", null,
            "Called by the bridge at process exit: closes the sessions."));

    private static final List<Entry> NATIVES = List.of(
        new Entry("callHostFunction", "void", List.of(new String[] {"long", "function"}, new String[] {"long", "userData"}),
            null, "bf_call_host_function", "Calls a CUhostFn of the program: {@code function(userData)}."),
        new Entry("callStreamCallback", "void", List.of(new String[] {"long", "callback"},
            new String[] {"long", "stream"}, new String[] {"int", "status"}, new String[] {"long", "userData"}),
            null, "bf_call_stream_callback", "Calls a CUstreamCallback of the program: {@code callback(stream, status, userData)}."));

    public static void main(final String[] args) throws Exception
    {
        if (args[0].equals("--update-nvml-symbols"))
        {
            updateNvmlSymbols(Path.of(args[1]), Path.of(args[2]));
            return;
        }
        final Path table = Path.of(args[0]);
        final Path header = args[1].equals("auto") ? toolkitHeader() : Path.of(args[1]);
        final Path cOut = Path.of(args[2]);
        final Path javaOut = Path.of(args[3]);
        final List<Call> driverCalls = parse(table);
        final List<Call> nvmlCalls = parse(Path.of(args[4]));
        final List<String> nvmlSymbols = nvmlSymbols(Path.of(args[5]));
        checkNvml(nvmlCalls, nvmlSymbols);
        final List<Call> calls = new ArrayList<>(driverCalls);
        calls.addAll(nvmlCalls);
        if (Files.isReadable(header))
        {
            checkAgainstHeader(driverCalls, header);
        }
        else
        {
            System.out.println("native-bridge: " + header + " not found; forwarded calls not checked against cuda.h");
        }
        Files.createDirectories(cOut);
        Files.writeString(cOut.resolve("forwarded_calls.h"), renderHeader(calls));
        Files.writeString(cOut.resolve("forwarded_calls.c"), renderC(calls));
        Files.writeString(cOut.resolve("nvml_calls.c"), renderNvml(calls, nvmlSymbols));
        final Path javaPackage = javaOut.resolve("dev/bitfusion/bridge");
        Files.createDirectories(javaPackage);
        Files.writeString(javaPackage.resolve("DriverBridge.java"), renderJava(calls));
        System.out.println("native-bridge: " + driverCalls.size() + " forwarded driver calls generated from " +
            table.getFileName() + ", " + nvmlCalls.size() + " NVML calls of " + nvmlSymbols.size() + " answered");
    }

    /** cuda.h of the toolkit at CUDA_HOME, else at /usr/local/cuda, as the native build finds it. */
    private static Path toolkitHeader()
    {
        final String home = System.getenv("CUDA_HOME");
        return Path.of(home == null || home.isBlank() ? "/usr/local/cuda" : home, "include", "cuda.h");
    }

    static List<Call> parse(final Path table) throws IOException
    {
        final List<Call> calls = new ArrayList<>();
        final Map<String, Integer> seen = new HashMap<>();
        int lineNumber = 0;
        for (final String line : Files.readAllLines(table, StandardCharsets.UTF_8))
        {
            lineNumber++;
            if (line.isBlank() || line.startsWith("#"))
            {
                continue;
            }
            final Matcher row = ROW.matcher(line.strip());
            if (!row.matches())
            {
                throw new IllegalArgumentException(table + ":" + lineNumber + ": not a row: " + line);
            }
            final List<Parameter> parameters = new ArrayList<>();
            final String list = row.group(6).strip();
            if (!list.isEmpty())
            {
                for (final String text : list.split(","))
                {
                    final Matcher parameter = PARAMETER.matcher(text.strip());
                    if (!parameter.matches())
                    {
                        throw new IllegalArgumentException(table + ":" + lineNumber + ": bad parameter '" + text + "'");
                    }
                    final Parameter p = new Parameter(parameter.group(1), normalise(parameter.group(2)), parameter.group(3));
                    p.cType();
                    parameters.add(p);
                }
            }
            final Call call = new Call(row.group(1), row.group(2), row.group(3), row.group(4),
                row.group(5).equals("release"), parameters);
            if (seen.put(call.symbol(), lineNumber) != null)
            {
                throw new IllegalArgumentException(table + ":" + lineNumber + ": " + call.symbol() + " listed twice");
            }
            calls.add(call);
        }
        return calls;
    }

    /** Types compare equal whatever the spacing around '*'. */
    private static String normalise(final String type)
    {
        return type.replaceAll("\\s+", " ").strip().replaceAll("\\s*\\*", "*").replaceFirst("\\*", " *");
    }

    private static void checkAgainstHeader(final List<Call> calls, final Path header) throws Exception
    {
        final Map<String, String> declared = new HashMap<>();
        for (final String define : new String[] {null, "CUDA_API_PER_THREAD_DEFAULT_STREAM", "__CUDA_API_VERSION_INTERNAL"})
        {
            final Matcher declaration = DECLARATION.matcher(preprocess(header, define).replaceAll("\\s+", " "));
            while (declaration.find())
            {
                declared.putIfAbsent(declaration.group(1), declaration.group(2));
            }
        }
        final List<String> problems = new ArrayList<>();
        for (final Call call : calls)
        {
            final List<String> symbols = new ArrayList<>(List.of(call.symbol()));
            if (!call.twin().equals("-"))
            {
                symbols.add(call.symbol() + "_" + call.twin());
            }
            for (final String symbol : symbols)
            {
                final String parameters = declared.get(symbol);
                if (parameters == null)
                {
                    problems.add(symbol + " is not declared in " + header);
                    continue;
                }
                final List<String> types = new ArrayList<>();
                for (final String text : parameters.strip().equals("void") ? new String[0] : parameters.split(","))
                {
                    final Matcher typed = Pattern.compile("^(.+?)\\s*(\\w+)$").matcher(text.strip());
                    types.add(typed.matches() ? normalise(typed.group(1)) : normalise(text));
                }
                final List<String> ours = call.parameters().stream().map(Parameter::type).toList();
                if (!types.equals(ours))
                {
                    problems.add(symbol + ": the table says " + ours + ", cuda.h says " + types);
                }
            }
        }
        if (!problems.isEmpty())
        {
            throw new IllegalStateException("forwarded-calls.txt disagrees with " + header + ":\n  " +
                String.join("\n  ", problems));
        }
    }

    private static String preprocess(final Path header, final String define) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of("gcc", "-E", "-P", "-I", header.getParent().toString()));
        if (define != null)
        {
            command.add("-D" + define);
        }
        command.add(header.toString());
        final Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0)
        {
            throw new IllegalStateException("gcc -E failed on " + header);
        }
        return output;
    }

    private static String cParameters(final Call call)
    {
        if (call.parameters().isEmpty())
        {
            return "void";
        }
        final List<String> out = new ArrayList<>();
        for (final Parameter p : call.parameters())
        {
            final String type = p.cType();
            out.add(type.endsWith("*") ? type + p.name() : type + " " + p.name());
        }
        return String.join(", ", out);
    }

    private static String renderHeader(final List<Call> calls)
    {
        final StringBuilder h = new StringBuilder();
        h.append("/* Generated by BridgeGenerator from forwarded-calls.txt: do not edit. */\n");
        h.append("#ifndef BITFUSION_FORWARDED_CALLS_H\n#define BITFUSION_FORWARDED_CALLS_H\n\n#include \"bridge.h\"\n\n");
        h.append("#include <jni.h>\n\n");
        h.append("/* The natives of DriverBridge, implemented by hand (jvm.c), registered with the generated table. */\n");
        for (final Entry entry : NATIVES)
        {
            h.append("void JNICALL ").append(entry.cFunction()).append('(').append(entry.cParameters()).append(");\n");
        }
        h.append('\n');
        h.append("/* The driver calls the bridge forwards to the client runtime, callable from the bridge's own C. */\n");
        for (final Call call : calls.stream().filter(call -> !call.nvml()).toList())
        {
            h.append("CUresult ").append(call.symbol()).append('(').append(cParameters(call)).append(");\n");
        }
        return h.append("\n#endif\n").toString();
    }

    private static String renderC(final List<Call> calls)
    {
        final StringBuilder c = new StringBuilder();
        c.append("/* Generated by BridgeGenerator from forwarded-calls.txt: do not edit. */\n");
        c.append("#include <stdio.h>\n\n#include \"forwarded_calls.h\"\n#include \"jvm.h\"\n\n");
        c.append("/* The trampolines of DriverBridge, in table order: resolved together when the JVM starts. */\n");
        c.append("const bf_java_method bf_java_methods[] = {\n");
        for (final Call call : calls)
        {
            c.append("    {\"").append(call.symbol()).append("\", \"").append(call.descriptor()).append("\"},\n");
        }
        c.append("};\n\nconst int bf_java_method_count = ").append(calls.size()).append(";\n");
        c.append("jmethodID bf_java_method_ids[").append(calls.size()).append("];\n\n");
        c.append("/* The runtime's start and exit, called by the bridge. */\n");
        c.append("const bf_java_method bf_bridge_start = {\"").append(ENTRIES.get(0).name()).append("\", \"")
            .append(ENTRIES.get(0).descriptor()).append("\"};\n");
        c.append("const bf_java_method bf_bridge_exit = {\"").append(ENTRIES.get(1).name()).append("\", \"")
            .append(ENTRIES.get(1).descriptor()).append("\"};\n\n");
        c.append("/* The natives of DriverBridge and their C implementations. */\n");
        c.append("const JNINativeMethod bf_bridge_natives[] = {\n");
        for (final Entry entry : NATIVES)
        {
            c.append("    {\"").append(entry.name()).append("\", \"").append(entry.descriptor()).append("\", (void *)")
                .append(entry.cFunction()).append("},\n");
        }
        c.append("};\n\nconst int bf_bridge_native_count = ").append(NATIVES.size()).append(";\n");
        for (int index = 0; index < calls.size(); index++)
        {
            final Call call = calls.get(index);
            if (call.nvml())
            {
                continue;
            }
            c.append('\n');
            renderExport(c, call, index, call.symbol(), false);
            if (!call.twin().equals("-"))
            {
                c.append('\n');
                renderExport(c, call, index, call.symbol() + "_" + call.twin(), true);
            }
        }
        return c.toString();
    }

    private static void renderExport(
        final StringBuilder c, final Call call, final int index, final String symbol, final boolean perThreadTwin)
    {
        c.append("BF_EXPORT ").append(call.nvml() ? "int " : "CUresult ").append(symbol).append('(')
            .append(cParameters(call)).append(")\n{\n");
        c.append("    JNIEnv *env;\n");
        c.append("    CUresult status = bf_enter(&env);\n");
        if (call.nvml())
        {
            c.append("    if (status != CUDA_SUCCESS)\n    {\n        return bf_nvml_unavailable(status);\n    }\n");
        }
        c.append("    if (status == CUDA_SUCCESS)\n    {\n");
        c.append("        status = bf_check(env, (*env)->CallStaticIntMethod(env, bf_bridge_class, bf_java_method_ids[")
            .append(index).append(']');
        for (final Parameter p : call.parameters())
        {
            c.append(", ").append(p.jniArgument(perThreadTwin));
        }
        c.append("));\n    }\n");
        c.append("    if (bf_trace_enabled())\n    {\n");
        final StringBuilder format = new StringBuilder(symbol).append('(');
        final StringBuilder arguments = new StringBuilder();
        for (int i = 0; i < call.parameters().size(); i++)
        {
            final Parameter p = call.parameters().get(i);
            format.append(i == 0 ? "" : ", ").append(p.name()).append('=').append(p.traceFormat());
            arguments.append(", ").append(p.traceArgument());
        }
        format.append(") -> %d");
        c.append("        fprintf(stderr, \"bitfusion-trace: ").append(format).append("\\n\"").append(arguments)
            .append(", status);\n");
        c.append("    }\n    return status;\n}\n");
    }

    /** The NVML function names of the snapshot, in its order. */
    static List<String> nvmlSymbols(final Path snapshot) throws IOException
    {
        return Files.readAllLines(snapshot, StandardCharsets.UTF_8).stream()
            .filter(line -> line.startsWith("symbol ")).map(line -> line.substring("symbol ".length()).strip()).toList();
    }

    /** Every answered NVML call must be a function nvml.h declares. */
    private static void checkNvml(final List<Call> calls, final List<String> symbols)
    {
        final List<String> unknown = calls.stream().map(Call::symbol).filter(symbol -> !symbols.contains(symbol)).toList();
        if (!unknown.isEmpty())
        {
            throw new IllegalStateException("nvml-calls.txt names functions nvml-symbols.txt lacks: " + unknown);
        }
    }

    /** Rewrites the snapshot from a real nvml.h: every function it declares. */
    private static void updateNvmlSymbols(final Path header, final Path snapshot) throws IOException
    {
        final Matcher declaration = Pattern.compile("nvmlReturn_t\\s+DECLDIR\\s+(nvml\\w+)\\s*\\(")
            .matcher(Files.readString(header, StandardCharsets.UTF_8));
        final java.util.TreeSet<String> names = new java.util.TreeSet<>();
        while (declaration.find())
        {
            names.add(declaration.group(1));
        }
        final List<String> lines = new ArrayList<>(Files.readAllLines(snapshot, StandardCharsets.UTF_8).stream()
            .filter(line -> line.startsWith("#")).toList());
        names.forEach(name -> lines.add("symbol " + name));
        Files.write(snapshot, lines, StandardCharsets.UTF_8);
        System.out.println("native-bridge: " + names.size() + " NVML functions written to " + snapshot);
    }

    /**
     * libnvidia-ml.so.1's exports: each answered call marshalled to its trampoline (the method ids live in
     * libcuda.so.1, which links them), every other NVML function a weak "not supported", and nvml.c's own
     * answers (strong) taking precedence over those.
     */
    private static String renderNvml(final List<Call> calls, final List<String> symbols)
    {
        final StringBuilder c = new StringBuilder();
        c.append("/* Generated by BridgeGenerator from nvml-calls.txt and nvml-symbols.txt: do not edit. */\n");
        c.append("#include <stdio.h>\n\n#include \"jvm.h\"\n#include \"nvml_bridge.h\"\n");
        final java.util.Set<String> answered = new java.util.HashSet<>();
        for (int index = 0; index < calls.size(); index++)
        {
            final Call call = calls.get(index);
            if (call.nvml())
            {
                c.append('\n');
                renderExport(c, call, index, call.symbol(), false);
                answered.add(call.symbol());
            }
        }
        c.append("\n/* Not answered: NVML_ERROR_NOT_SUPPORTED, named once. Weak, so nvml.c's own answers win. */\n");
        int stub = 0;
        for (final String symbol : symbols)
        {
            if (!answered.contains(symbol))
            {
                c.append("__attribute__((weak)) BF_EXPORT int ").append(symbol).append("(void)\n{\n")
                    .append("    return bf_nvml_unsupported(\"").append(symbol).append("\", ").append(stub++)
                    .append(");\n}\n\n");
            }
        }
        c.append("const int bf_nvml_stub_count = ").append(stub).append(";\n");
        return c.toString();
    }

    private static String renderJava(final List<Call> calls)
    {
        final StringBuilder j = new StringBuilder();
        j.append("package dev.bitfusion.bridge;\n\n");
        j.append("import dev.bitfusion.agent.driver.RemoteDriver;\n\n");
        j.append("/**\n * Generated by BridgeGenerator from native-bridge/src/main/bridge/forwarded-calls.txt: do not edit.\n");
        j.append(" * <p>\n * The Java half of the bridge: one static trampoline per forwarded driver call, called by our\n");
        j.append(" * libcuda.so.1 through JNI with pointers as addresses, calling the client runtime. Nothing crosses back\n");
        j.append(" * into C but a CUresult: a throwable becomes CUDA_ERROR_UNKNOWN with one line on stderr.\n");
        j.append(" * <p>\n * Thread safety: thread safe; the runtime is.\n */\n");
        j.append("public final class DriverBridge\n{\n    private DriverBridge()\n    {\n    }\n");
        for (final Entry entry : ENTRIES)
        {
            j.append("\n    /**\n     * ").append(entry.doc()).append("\n     */\n");
            j.append("    public static ").append(entry.returns()).append(' ').append(entry.name()).append('(')
                .append(entry.javaParameters()).append(")\n    {\n        ").append(entry.body()).append("\n    }\n");
        }
        for (final Entry entry : NATIVES)
        {
            j.append("\n    /**\n     * ").append(entry.doc()).append(" Registered by the bridge when it starts the JVM.\n     */\n");
            j.append("    static native ").append(entry.returns()).append(' ').append(entry.name()).append('(')
                .append(entry.javaParameters()).append(");\n");
        }
        for (final Call call : calls)
        {
            j.append('\n');
            j.append("    /** {@code ").append(call.symbol());
            if (!call.twin().equals("-"))
            {
                j.append("} and {@code ").append(call.symbol()).append('_').append(call.twin());
            }
            j.append("}. */\n");
            j.append("    public static int ").append(call.symbol()).append('(');
            final List<String> declared = new ArrayList<>();
            final List<String> passed = new ArrayList<>();
            for (final Parameter p : call.parameters())
            {
                declared.add("final " + p.javaType() + " " + p.javaName());
                passed.add(p.javaName());
            }
            j.append(String.join(", ", declared)).append(")\n    {\n");
            j.append("        final RemoteDriver driver = BridgeRuntime.driver();\n");
            j.append("        if (driver == null)\n        {\n");
            j.append("            return BridgeRuntime.").append(call.nvml() ? "nvmlNotRunning(" : "notRunning(")
                .append(call.nvml() ? "" : String.valueOf(call.release())).append(");\n        }\n");
            j.append("        try\n        {\n");
            j.append("            return driver").append(call.target().equals("driver") ? "" : "." + call.target() + "()")
                .append('.').append(call.method()).append('(').append(String.join(", ", passed)).append(");\n");
            j.append("        }\n        catch (final Throwable ex)\n        {\n");
            j.append("            return BridgeRuntime.").append(call.nvml() ? "nvmlFailed" : "failed").append("(\"")
                .append(call.symbol()).append("\", ex);\n");
            j.append("        }\n    }\n");
        }
        return j.append("}\n").toString();
    }

}
