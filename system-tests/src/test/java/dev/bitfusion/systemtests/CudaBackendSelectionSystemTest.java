package dev.bitfusion.systemtests;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code bitfusion server --backend} on a machine without the NVIDIA driver: cuda fails with one clear
 * line, auto falls back to the emulated GPU and says why.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CudaBackendSelectionSystemTest
{
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();

    @BeforeAll
    static void requireNoDriver()
    {
        final boolean driverInstalled = List.of("/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib64/libcuda.so.1",
            "/usr/local/nvidia/lib64/libcuda.so.1").stream().anyMatch(path -> Files.exists(Path.of(path)));
        assumeTrue(!driverInstalled, "this machine has the NVIDIA driver");
        assumeTrue(Files.isRegularFile(ROOT.resolve("cli/target/lib/bitfusion-cli.jar")), "distribution not built");
    }

    @Test
    void shouldFailWithOneClearLineWhenCudaIsAskedForWithoutADriver() throws Exception
    {
        final Process process = server("--backend", "cuda");
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertNotEquals(0, process.exitValue(), output);
        assertEquals(1, output.lines().count(), output);
        assertTrue(output.contains("libcuda.so.1 (the NVIDIA driver) is not installed"), output);
        assertTrue(output.contains("use --backend emulated"), output);
    }

    @Test
    void shouldPickTheEmulatedGpuOnAutoAndSayWhy() throws Exception
    {
        final Process process = server("--backend", "auto");
        try
        {
            final StringBuilder output = new StringBuilder();
            final var lines = new java.io.BufferedReader(
                new java.io.InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = lines.readLine()) != null && !line.contains("listening on"))
            {
                output.append(line).append('\n');
            }
            assertNotNull(line, output.toString());
            assertTrue(output.toString().contains("backend auto picks emulated: libcuda.so.1"), output.toString());
            assertTrue(line.contains("backend emulated"), line);
        }
        finally
        {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static Process server(final String... backend) throws IOException
    {
        final List<String> command = JavaProcess.command("dev.bitfusion.cli.BitfusionCommand");
        command.addAll(List.of("server", "--listen", "127.0.0.1:" + ServerProcess.freeUdpPort()));
        command.addAll(List.of(backend));
        final ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().remove("LD_LIBRARY_PATH");
        return builder.start();
    }
}
