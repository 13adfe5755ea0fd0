import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Generates the exported driver surface of our libcuda.so.1 from the toolkit's cuda.h: one weak
 * "not supported" definition per driver symbol (hand-written strong definitions replace them at link
 * time) and the name table cuGetProcAddress serves.
 * <p>
 * The symbol list is read by running the C preprocessor over cuda.h three ways (default, per-thread
 * default stream, and the driver-internal view that declares the legacy unversioned names), so every
 * ABI name is found: {@code _v2}, {@code _v3}, {@code _ptds}, {@code _ptsz} and the legacy ones. The
 * {@code #define cuX cuX_vN} / {@code __CUDA_API_PTDS(...)} lines give what an API name resolves to.
 * <p>
 * A snapshot of the result is committed (cuda-symbols.txt) so machines without the toolkit build the
 * same library; with the toolkit present the header wins and a drifted snapshot is reported.
 * <p>
 * Run as a single-file program: {@code java DriverExportsGenerator.java HEADER SNAPSHOT OUT_DIR [--update-snapshot]}.
 */
public final class DriverExportsGenerator
{
    private static final Pattern DECLARATION = Pattern.compile("CUresult\\s+(cu[A-Za-z0-9_]+)\\s*\\(");
    private static final Pattern ALIAS = Pattern.compile(
        "^\\s*#define\\s+(cu[A-Za-z0-9_]+)\\s+(?:__CUDA_API_(PTDS|PTSZ)\\((cu[A-Za-z0-9_]+)\\)|(cu[A-Za-z0-9_]+))\\s*$",
        Pattern.MULTILINE);
    private static final Pattern VERSION = Pattern.compile("#define\\s+CUDA_VERSION\\s+(\\d+)");
    private static final Pattern PFN = Pattern.compile("PFN_(cu[A-Za-z0-9_]+?)_v(\\d{4,5})\\)");
    private static final Pattern VERSIONED = Pattern.compile("(cu[A-Za-z0-9_]+?)(?:_v(\\d+))?");

    /** One API name as cuGetProcAddress sees it: what it resolves to by default and per-thread. */
    record Alias(String name, String target, String perThreadTarget)
    {
    }

    /** From CUDA version {@code version} on, API name {@code name} is the ABI symbol {@code symbol}. */
    record Versioned(String name, int version, String symbol)
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final Path header = Path.of(args[0]);
        final Path snapshot = Path.of(args[1]);
        final Path outDir = Path.of(args[2]);
        final boolean update = args.length > 3 && args[3].equals("--update-snapshot");

        final String snapshotText;
        if (Files.isReadable(header))
        {
            final String fromHeader = snapshotOf(header);
            final String committed = Files.isReadable(snapshot) ? Files.readString(snapshot) : "";
            if (!fromHeader.equals(committed))
            {
                if (update)
                {
                    Files.writeString(snapshot, fromHeader);
                    System.out.println("native-bridge: updated " + snapshot + " from " + header);
                }
                else
                {
                    System.out.println("native-bridge: WARNING " + header + " differs from the committed " + snapshot +
                        "; building from the header. Refresh the snapshot with -Dbitfusion.updateSymbols=true");
                }
            }
            snapshotText = fromHeader;
        }
        else
        {
            System.out.println("native-bridge: " + header + " not found; building from the committed " + snapshot);
            snapshotText = Files.readString(snapshot);
        }

        final TreeSet<String> symbols = new TreeSet<>();
        final Map<String, Alias> aliases = new TreeMap<>();
        final List<Versioned> versions = new ArrayList<>();
        for (final String line : snapshotText.split("\n"))
        {
            final String[] parts = line.trim().split("\\s+");
            if (parts[0].equals("symbol"))
            {
                symbols.add(parts[1]);
            }
            else if (parts[0].equals("alias"))
            {
                aliases.put(parts[1], new Alias(parts[1], parts[2], parts[3]));
            }
            else if (parts[0].equals("version"))
            {
                versions.add(new Versioned(parts[1], Integer.parseInt(parts[2]), parts[3]));
            }
        }
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("driver_exports.c"), render(symbols, aliases, versions));
        System.out.println("native-bridge: " + symbols.size() + " driver symbols, " + aliases.size() + " API aliases");
    }

    private static String snapshotOf(final Path header) throws IOException, InterruptedException
    {
        final String text = Files.readString(header);
        final Matcher version = VERSION.matcher(text);
        final TreeSet<String> symbols = new TreeSet<>();
        for (final String define : new String[] {null, "CUDA_API_PER_THREAD_DEFAULT_STREAM", "__CUDA_API_VERSION_INTERNAL"})
        {
            final Matcher declaration = DECLARATION.matcher(preprocess(header, define));
            while (declaration.find())
            {
                symbols.add(declaration.group(1));
            }
        }
        final TreeMap<String, Alias> aliases = new TreeMap<>();
        final Matcher alias = ALIAS.matcher(text);
        while (alias.find())
        {
            final String name = alias.group(1);
            final String target = alias.group(3) != null ? alias.group(3) : alias.group(4);
            final String perThread = alias.group(2) == null ? target : target + "_" + alias.group(2).toLowerCase();
            if (!name.equals(target) || !perThread.equals(target))
            {
                if (symbols.contains(target) && symbols.contains(perThread))
                {
                    aliases.put(name, new Alias(name, target, perThread));
                }
            }
        }
        final List<Versioned> versions = versionsOf(header.resolveSibling("cudaTypedefs.h"), symbols);
        final StringBuilder out = new StringBuilder();
        out.append("# Driver symbols of cuda.h CUDA_VERSION ").append(version.find() ? version.group(1) : "?")
            .append(", generated by DriverExportsGenerator: do not edit by hand.\n");
        symbols.forEach(symbol -> out.append("symbol ").append(symbol).append('\n'));
        aliases.values().forEach(a -> out.append("alias ").append(a.name()).append(' ').append(a.target())
            .append(' ').append(a.perThreadTarget()).append('\n'));
        versions.forEach(v -> out.append("version ").append(v.name()).append(' ').append(v.version())
            .append(' ').append(v.symbol()).append('\n'));
        return out.toString();
    }

    /**
     * cudaTypedefs.h names each ABI of an API by the CUDA version that introduced it
     * ({@code PFN_cuCtxCreate_v3020}, {@code _v11040}, {@code _v12050}); the symbols of that API sorted
     * by suffix ({@code cuCtxCreate}, {@code _v2}, {@code _v3}, {@code _v4}) pair up with them, newest
     * with newest.
     */
    private static List<Versioned> versionsOf(final Path typedefs, final TreeSet<String> symbols) throws IOException
    {
        final List<Versioned> versions = new ArrayList<>();
        if (!Files.isReadable(typedefs))
        {
            return versions;
        }
        final TreeMap<String, TreeSet<Integer>> introduced = new TreeMap<>();
        final Matcher pfn = PFN.matcher(Files.readString(typedefs));
        while (pfn.find())
        {
            introduced.computeIfAbsent(pfn.group(1), k -> new TreeSet<>()).add(Integer.parseInt(pfn.group(2)));
        }
        final TreeMap<String, TreeMap<Integer, String>> families = new TreeMap<>();
        for (final String symbol : symbols)
        {
            if (symbol.endsWith("_ptds") || symbol.endsWith("_ptsz"))
            {
                continue;
            }
            final Matcher versioned = VERSIONED.matcher(symbol);
            if (versioned.matches())
            {
                final int abi = versioned.group(2) == null ? 1 : Integer.parseInt(versioned.group(2));
                families.computeIfAbsent(versioned.group(1), k -> new TreeMap<>()).put(abi, symbol);
            }
        }
        introduced.forEach((name, cudaVersions) ->
        {
            final TreeMap<Integer, String> family = families.get(name);
            if (family == null)
            {
                return;
            }
            final List<Integer> newestFirstVersions = new ArrayList<>(cudaVersions.descendingSet());
            final List<String> newestFirstSymbols = new ArrayList<>(family.descendingMap().values());
            for (int i = 0; i < Math.min(newestFirstVersions.size(), newestFirstSymbols.size()); i++)
            {
                versions.add(new Versioned(name, newestFirstVersions.get(i), newestFirstSymbols.get(i)));
            }
        });
        versions.sort((a, b) -> a.name().equals(b.name()) ? Integer.compare(a.version(), b.version()) : a.name().compareTo(b.name()));
        return versions;
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

    private static String render(final TreeSet<String> symbols, final Map<String, Alias> aliases, final List<Versioned> versions)
    {
        final StringBuilder c = new StringBuilder();
        c.append("/* Generated by DriverExportsGenerator from cuda.h: do not edit. */\n");
        c.append("#include \"bridge.h\"\n\n");
        c.append("/* Every driver symbol, \"not supported\" unless bridge code defines it (strong beats weak at link time). */\n");
        int index = 0;
        for (final String symbol : symbols)
        {
            c.append("__attribute__((weak, visibility(\"default\"))) int ").append(symbol)
                .append("(void) { return bf_unimplemented(\"").append(symbol).append("\", ").append(index++).append("); }\n");
        }
        c.append("\nconst int bf_symbol_count = ").append(symbols.size()).append(";\n\n");

        // Rows: (API name, first CUDA version, default symbol, per-thread symbol), sorted by name then version.
        final TreeMap<String, TreeMap<Integer, String[]>> table = new TreeMap<>();
        symbols.forEach(symbol -> table.computeIfAbsent(symbol, k -> new TreeMap<>())
            .put(0, new String[] {symbol, perThread(symbol, symbols)}));
        aliases.values().forEach(a -> table.put(a.name(), new TreeMap<>(Map.of(0, new String[] {a.target(), a.perThreadTarget()}))));
        final TreeMap<String, TreeMap<Integer, String[]>> versioned = new TreeMap<>();
        versions.forEach(v -> versioned.computeIfAbsent(v.name(), k -> new TreeMap<>())
            .put(v.version(), new String[] {v.symbol(), perThread(v.symbol(), symbols)}));
        table.putAll(versioned);
        int rows = 0;
        c.append("/* cuGetProcAddress: API name, CUDA version it applies from, default and per-thread symbol. */\n");
        c.append("const bf_proc_entry bf_proc_table[] = {\n");
        for (final Map.Entry<String, TreeMap<Integer, String[]>> name : table.entrySet())
        {
            for (final Map.Entry<Integer, String[]> row : name.getValue().entrySet())
            {
                c.append("    {\"").append(name.getKey()).append("\", ").append(row.getKey()).append(", (void *)")
                    .append(row.getValue()[0]).append(", (void *)").append(row.getValue()[1]).append("},\n");
                rows++;
            }
        }
        c.append("};\n\nconst int bf_proc_table_length = ").append(rows).append(";\n");
        return c.toString();
    }

    private static String perThread(final String symbol, final TreeSet<String> symbols)
    {
        return symbols.contains(symbol + "_ptds") ? symbol + "_ptds" :
            symbols.contains(symbol + "_ptsz") ? symbol + "_ptsz" : symbol;
    }
}
