package dev.bitfusion.systemtests;

import org.junit.jupiter.params.provider.Arguments;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The programs of examples/cuda, built by scripts/build-examples.sh (nvcc, and gcc for the C programs)
 * into system-tests/target/cuda-examples, each rebuilt only when its source is newer. Without nvcc the
 * tests that need them are skipped with a loud line on stderr. What is built and how each program is run
 * and judged comes from examples/cuda/manifest.txt, which gpu-check.sh reads too.
 * <p>
 * Thread safety: call from one test thread.
 */
final class CudaExamples
{
    static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    static final Path CUDA_HOME = Path.of(System.getenv().getOrDefault("CUDA_HOME", "/usr/local/cuda"));
    static final Path NVCC = CUDA_HOME.resolve("bin/nvcc");
    static final Path BUILT = ROOT.resolve("system-tests/target/cuda-examples");
    /** Where our libcuda.so lies after the native-bridge build, for linking the driver-API program. */
    static final Path BRIDGE_LIBRARY_DIR = ROOT.resolve("native-bridge/target/native");
    static final Path MANIFEST = ROOT.resolve("examples/cuda/manifest.txt");

    /**
     * A run line of the manifest as the system tests take it.
     *
     * @param program   the program, a build output.
     * @param arguments its arguments, those naming build outputs turned into their paths.
     * @param verdict   the line it prints on the emulated GPU when its self-check passed.
     */
    record Run(String program, List<String> arguments, String verdict)
    {
    }

    private CudaExamples()
    {
    }

    /**
     * Build every example once (scripts/build-examples.sh); skips the calling test class when nvcc is absent.
     */
    static void buildAll() throws IOException, InterruptedException
    {
        if (!Files.isExecutable(NVCC))
        {
            System.err.println("*** " + CudaExamples.class.getSimpleName() + ": SKIPPED, no nvcc at " + NVCC +
                ": the CUDA toolkit is needed to build the example programs (set CUDA_HOME) ***");
        }
        assumeTrue(Files.isExecutable(NVCC), "nvcc not found at " + NVCC);
        final Process process = new ProcessBuilder(ROOT.resolve("scripts/build-examples.sh").toString(), BUILT.toString())
            .redirectErrorStream(true).start();
        final String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), "scripts/build-examples.sh: " + text);
    }

    /**
     * @return the run lines of the manifest, in its order.
     */
    static List<Run> runs()
    {
        final List<String[]> lines = manifestLines();
        final Set<String> outputs = new HashSet<>();
        lines.stream().filter(fields -> fields[0].equals("build")).forEach(fields -> outputs.add(fields[1]));
        final List<Run> runs = new ArrayList<>();
        for (final String[] fields : lines)
        {
            if (fields[0].equals("run"))
            {
                final List<String> arguments = fields[2].isBlank() ? List.of() : Arrays.stream(fields[2].split(" "))
                    .map(argument -> outputs.contains(argument) ? binary(argument) : argument).toList();
                runs.add(new Run(fields[1], arguments, fields[4].isEmpty() ? fields[3] : fields[4]));
            }
        }
        return runs;
    }

    /**
     * @param program a program of the manifest's run lines.
     * @return the line it prints on the emulated GPU when its self-check passed.
     */
    static String verdict(final String program)
    {
        return runs().stream().filter(run -> run.program().equals(program)).findFirst()
            .orElseThrow(() -> new IllegalArgumentException(program + " has no run line in " + MANIFEST)).verdict();
    }

    /**
     * The examples suite, for a parameterized test of (program, arguments, verdict): every run line of the
     * manifest but those a suite checks in tests of their own.
     *
     * @param checkedApart programs left out.
     * @return the rest, in the manifest's order.
     */
    static Stream<Arguments> suiteExcept(final String... checkedApart)
    {
        final List<String> apart = List.of(checkedApart);
        return runs().stream().filter(run -> !apart.contains(run.program()))
            .map(run -> Arguments.of(run.program(), run.arguments(), run.verdict()));
    }

    /**
     * @return the manifest's entries, each split at '|' (empty fields kept); comments and blank lines skipped.
     */
    static List<String[]> manifestLines()
    {
        try
        {
            return Files.readAllLines(MANIFEST).stream().filter(line -> !line.isBlank() && !line.startsWith("#"))
                .map(line -> line.split("\\|", -1)).toList();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * @param name an example's name.
     * @return its built program.
     */
    static String binary(final String name)
    {
        return BUILT.resolve(name).toString();
    }
}
