package dev.bitfusion.systemtests;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An unmodified PyTorch program under {@code bitfusion run} on the emulated GPU. It needs a Python with
 * PyTorch: {@code BITFUSION_TEST_PYTHON}, else {@code python3} when it imports torch; without one the test
 * is skipped with a line on stderr (CI installs no PyTorch: its wheels are gigabytes).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PyTorchSystemTest
{
    private static final long SLICE_MB = 1024;
    private static final Path SCRIPT = CudaExamples.ROOT.resolve("system-tests/src/test/resources/pytorch_on_emulated_gpu.py");
    private static final Path TWO_GPUS_SCRIPT = CudaExamples.ROOT.resolve("system-tests/src/test/resources/pytorch_two_gpus.py");

    private static String python;
    private static ServerProcess server;

    @BeforeAll
    static void findPythonWithTorchAndStartServer() throws Exception
    {
        python = System.getenv().getOrDefault("BITFUSION_TEST_PYTHON", "python3");
        final boolean hasTorch = imports(python, "torch");
        if (!hasTorch)
        {
            System.err.println("*** PyTorchSystemTest: SKIPPED, " + python + " cannot import torch (set BITFUSION_TEST_PYTHON) ***");
        }
        assumeTrue(hasTorch, python + " cannot import torch");
        server = ServerProcess.start(4 * SLICE_MB, "--gpus", "2");
    }

    @AfterAll
    static void stopServer() throws InterruptedException
    {
        if (server != null)
        {
            server.close();
        }
    }

    @Test
    void shouldRunPyTorchShortOfItsKernelsAndSayWhyTheKernelsCannotRun() throws Exception
    {
        try (BitfusionRun run = BitfusionRun.start("-m", Long.toString(SLICE_MB), "--server_list", server.serverList(), "--",
            python, SCRIPT.toString(), Long.toString(SLICE_MB)))
        {
            final int exitCode = run.await(240);
            assertEquals(0, exitCode, run.output());
            assertTrue(run.output().contains("pytorch_on_emulated_gpu: PASSED"), run.output());
            assertTrue(run.output().contains("bitfusion: library load failed: the fatbin holds no PTX"), run.output());
        }
    }

    @Test
    void shouldUseTwoGpusAndCopyTensorsBetweenThem() throws Exception
    {
        try (BitfusionRun run = BitfusionRun.start("-n", "2", "-m", Long.toString(SLICE_MB), "--server_list",
            server.serverList(), "--", python, TWO_GPUS_SCRIPT.toString()))
        {
            final int exitCode = run.await(240);
            assertEquals(0, exitCode, run.output());
            assertTrue(run.output().contains("pytorch_two_gpus: PASSED"), run.output());
        }
    }

    private static boolean imports(final String python, final String module) throws InterruptedException
    {
        try
        {
            final Process process = new ProcessBuilder(python, "-c", "import " + module).redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            return process.waitFor(120, TimeUnit.SECONDS) && process.exitValue() == 0;
        }
        catch (final IOException ex)
        {
            return false;
        }
    }
}
