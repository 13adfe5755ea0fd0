package dev.bitfusion.systemtests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The programs of examples/cuda, built by scripts/build-examples.sh (nvcc, and gcc for the C programs)
 * into system-tests/target/cuda-examples, each rebuilt only when its source is newer. Without nvcc the
 * tests that need them are skipped with a loud line on stderr.
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
     * @param name an example's name.
     * @return its built program.
     */
    static String binary(final String name)
    {
        return BUILT.resolve(name).toString();
    }
}
