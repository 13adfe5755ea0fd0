package dev.bitfusion.systemtests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The programs of examples/cuda, built with the toolkit's nvcc (and gcc for the driver-API program) into
 * system-tests/target/cuda-examples, each rebuilt only when its source is newer. Without nvcc the tests
 * that need them are skipped with a loud line on stderr.
 * <p>
 * Thread safety: call from one test thread.
 */
final class CudaExamples
{
    static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
    static final Path CUDA_HOME = Path.of(System.getenv().getOrDefault("CUDA_HOME", "/usr/local/cuda"));
    static final Path NVCC = CUDA_HOME.resolve("bin/nvcc");
    static final Path BUILT = ROOT.resolve("system-tests/target/cuda-examples");
    static final Path SOURCES = ROOT.resolve("examples/cuda");
    /** Where our libcuda.so lies after the native-bridge build, for linking the driver-API program. */
    static final Path BRIDGE_LIBRARY_DIR = ROOT.resolve("native-bridge/target/native");

    /** Runtime-API programs built with nvcc's defaults (cudart linked statically). */
    static final List<String> STATIC_CUDART = List.of("vector_add", "device_info", "memcpy_kinds", "memcpy_async",
        "memcpy_2d", "memset", "events", "host_alloc", "multi_thread_streams", "device_printf", "device_reset",
        "unsupported_memory", "kernel_loop", "pointer_attributes", "runtime_queries", "mapped_memory", "host_functions",
        "stream_ordered_memory");

    private CudaExamples()
    {
    }

    /**
     * Build every example once; skips the calling test class when nvcc is absent.
     */
    static void buildAll() throws IOException, InterruptedException
    {
        if (!Files.isExecutable(NVCC))
        {
            System.err.println("*** " + CudaExamples.class.getSimpleName() + ": SKIPPED, no nvcc at " + NVCC +
                ": the CUDA toolkit is needed to build the example programs (set CUDA_HOME) ***");
        }
        assumeTrue(Files.isExecutable(NVCC), "nvcc not found at " + NVCC);
        Files.createDirectories(BUILT);
        for (final String name : STATIC_CUDART)
        {
            build(SOURCES.resolve(name + ".cu"), BUILT.resolve(name), NVCC.toString(), "-o", BUILT.resolve(name).toString(),
                SOURCES.resolve(name + ".cu").toString());
        }
        // libcudart.so is the toolkit's: found through RUNPATH, which the loader searches after
        // LD_LIBRARY_PATH, so our libcuda.so.1 (first in LD_LIBRARY_PATH) still wins.
        final Path shared = SOURCES.resolve("shared_runtime.cu");
        build(shared, BUILT.resolve("shared_runtime"), NVCC.toString(), "-cudart", "shared",
            "-Xlinker", "-rpath=" + CUDA_HOME.resolve("lib64"), "-o", BUILT.resolve("shared_runtime").toString(),
            shared.toString());
        // Machine code for sm_90 alone: what PyTorch's wheels are like (no PTX), which the emulated GPU cannot run.
        final Path vectorAdd = SOURCES.resolve("vector_add.cu");
        build(vectorAdd, BUILT.resolve("vector_add_sm90_only"), NVCC.toString(), "-gencode", "arch=compute_90,code=sm_90",
            "-o", BUILT.resolve("vector_add_sm90_only").toString(), vectorAdd.toString());
        final Path kernels = SOURCES.resolve("driver_kernels.cu");
        build(kernels, BUILT.resolve("driver_kernels.ptx"), NVCC.toString(), "-ptx", "-o",
            BUILT.resolve("driver_kernels.ptx").toString(), kernels.toString());
        build(kernels, BUILT.resolve("driver_kernels.fatbin"), NVCC.toString(), "-fatbin", "-o",
            BUILT.resolve("driver_kernels.fatbin").toString(), kernels.toString());
        final Path forkChild = SOURCES.resolve("fork_child.c");
        build(forkChild, BUILT.resolve("fork_child"), "gcc", "-std=gnu11", "-Wall", "-O2",
            "-I" + CUDA_HOME.resolve("include"), "-o", BUILT.resolve("fork_child").toString(), forkChild.toString(),
            "-L" + BRIDGE_LIBRARY_DIR, "-lcuda");
        final Path driverApi = SOURCES.resolve("driver_api.c");
        build(driverApi, BUILT.resolve("driver_api"), "gcc", "-std=c11", "-Wall", "-O2",
            "-I" + CUDA_HOME.resolve("include"), "-o", BUILT.resolve("driver_api").toString(), driverApi.toString(),
            "-L" + BRIDGE_LIBRARY_DIR, "-lcuda");
    }

    /**
     * @param name an example's name.
     * @return its built program.
     */
    static String binary(final String name)
    {
        return BUILT.resolve(name).toString();
    }

    private static void build(final Path source, final Path output, final String... command)
        throws IOException, InterruptedException
    {
        if (Files.exists(output) &&
            Files.getLastModifiedTime(output).compareTo(newest(source, Files.getLastModifiedTime(source))) > 0)
        {
            return;
        }
        final Process process = new ProcessBuilder(new ArrayList<>(List.of(command))).redirectErrorStream(true).start();
        final String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), String.join(" ", command) + ": " + text);
    }

    /** The driver-API program links our library: rebuild it when the library is newer too. */
    private static FileTime newest(final Path source, final FileTime sourceTime) throws IOException
    {
        final Path library = BRIDGE_LIBRARY_DIR.resolve("libcuda.so.1");
        if (source.toString().endsWith(".c") && Files.exists(library))
        {
            final FileTime libraryTime = Files.getLastModifiedTime(library);
            return libraryTime.compareTo(sourceTime) > 0 ? libraryTime : sourceTime;
        }
        return sourceTime;
    }
}
