package dev.bitfusion.systemtests;

import org.junit.jupiter.params.provider.Arguments;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

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
     * The examples that take no arguments and check themselves, each with the line that says it passed:
     * every suite that runs programs (through the interposer, through the cuda backend) runs these.
     */
    static Stream<Arguments> selfChecking()
    {
        return Stream.of(
            Arguments.of("vector_add", "vector_add: 4096 elements PASSED"),
            Arguments.of("memcpy_kinds", "memcpy_kinds: H2D D2H D2D H2H Default PASSED"),
            Arguments.of("memcpy_async", "memcpy_async: 4 chunks on a stream PASSED"),
            Arguments.of("memcpy_2d", "memcpy_2d: 100x37 pitch 512 PASSED"),
            Arguments.of("memset", "memset: 100000 bytes PASSED"),
            Arguments.of("events", "stream wait honoured PASSED"),
            Arguments.of("host_alloc", "host_alloc: cudaMallocHost, cudaHostAlloc and cudaHostRegister PASSED"),
            Arguments.of("multi_thread_streams", "multi_thread_streams: 4 threads x 20 launches PASSED"),
            Arguments.of("device_reset", "device_reset: memory freed, device usable again PASSED"),
            Arguments.of("pointer_attributes", "pointer_attributes: PASSED"),
            Arguments.of("runtime_queries", "priorities 0..0, bus 00000000:00:00.0 PASSED"),
            Arguments.of("mapped_memory", "mapped_memory: kernel and host writes seen on both sides PASSED"),
            Arguments.of("host_functions", "host_functions: host function and stream callback in stream order PASSED"),
            Arguments.of("stream_ordered_memory",
                "stream_ordered_memory: 10 rounds of cudaMallocAsync and cudaFreeAsync PASSED"));
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
