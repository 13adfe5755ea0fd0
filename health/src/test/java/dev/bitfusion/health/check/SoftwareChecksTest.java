package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.host.HostView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.bitfusion.health.Fixtures.host;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SoftwareChecksTest
{
    @TempDir
    Path tmp;

    private static void assertResult(final HealthStatus status, final String detail, final CheckResult result)
    {
        assertEquals(status, result.status(), result::toString);
        assertEquals(detail, result.detail());
    }

    private Path file(final String relative, final String content) throws IOException
    {
        final Path path = tmp.resolve(relative);
        Files.createDirectories(path.getParent());
        return Files.writeString(path, content);
    }

    @Test
    void shouldPickNewestVersionedToolkitWhenNoCudaLink()
    {
        assertResult(HealthStatus.PASS, "CUDA toolkit 12.4.1 at /usr/local/cuda-12.4", new CudaToolkitCheck().run(host("pass")));
    }

    @Test
    void shouldPreferToolkitOnLdLibraryPath()
    {
        final HostView host = host("pass").withEnvironment(Map.of("LD_LIBRARY_PATH", "/usr/local/cuda-11.8/lib64:/opt/x"));

        assertResult(HealthStatus.PASS, "CUDA toolkit 11.8.0 at /usr/local/cuda-11.8", new CudaToolkitCheck().run(host));
    }

    @Test
    void shouldReadTheRuntimeVersionOfAToolkitInstalledFromWheels() throws IOException
    {
        file("usr/local/cuda/dist-info/nvidia_cuda_nvcc-13.0.88.dist-info/METADATA", "Name: nvidia-cuda-nvcc\n");
        file("usr/local/cuda/dist-info/nvidia_cuda_runtime-13.0.96.dist-info/METADATA", "Name: nvidia-cuda-runtime\n");

        assertResult(HealthStatus.PASS, "CUDA toolkit 13.0.96 at /usr/local/cuda", new CudaToolkitCheck().run(host(tmp)));
    }

    @Test
    void shouldBeMarginalForAToolkitWithoutAnyVersionRecord() throws IOException
    {
        file("usr/local/cuda/lib64/libcudart.so.13", "");

        assertResult(HealthStatus.MARGINAL,
            "Unable to parse CUDA toolkit version from /usr/local/cuda (no version.json, version.txt or " +
            "nvidia_cuda_runtime dist-info)", new CudaToolkitCheck().run(host(tmp)));
    }

    @Test
    void shouldReadLegacyVersionTxt() throws IOException
    {
        file("usr/local/cuda/version.txt", "CUDA Version 10.2.89\n");

        assertResult(HealthStatus.PASS, "CUDA toolkit 10.2.89 at /usr/local/cuda", new CudaToolkitCheck().run(host(tmp)));
    }

    @Test
    void shouldBeMarginalWhenToolkitVersionUnparseable()
    {
        assertResult(HealthStatus.MARGINAL, "Unable to parse CUDA toolkit version from /usr/local/cuda/version.txt",
            new CudaToolkitCheck().run(host("marginal")));
    }

    @Test
    void shouldReportInfoWhenNoToolkit()
    {
        assertEquals(HealthStatus.INFO, new CudaToolkitCheck().run(host("nogpu")).status());
    }

    @Test
    void shouldReadCudnnVersionFromLibraryName()
    {
        assertResult(HealthStatus.PASS, "cuDNN 9.1.0 at /usr/lib/x86_64-linux-gnu/libcudnn.so.9.1.0",
            new CudnnCheck().run(host("pass")));
    }

    @Test
    void shouldFollowUnversionedCudnnLinkToItsTarget() throws IOException
    {
        final Path target = file("opt/cudnn/lib/libcudnn.so.8.9.7", "");
        Files.createSymbolicLink(tmp.resolve("opt/cudnn/lib/libcudnn.so"), target.getFileName());
        final HostView host = host(tmp).withEnvironment(Map.of("LD_LIBRARY_PATH", "/opt/cudnn/lib"));

        final CheckResult result = new CudnnCheck().run(host);

        assertEquals(HealthStatus.PASS, result.status(), result::toString);
        assertEquals(true, result.detail().startsWith("cuDNN 8.9.7 at "), result.detail());
    }

    @Test
    void shouldBeMarginalWhenCudnnVersionUnparseable()
    {
        assertResult(HealthStatus.MARGINAL, "Unable to parse cuDNN version from /usr/lib64/libcudnn.so",
            new CudnnCheck().run(host("marginal")));
    }

    @Test
    void shouldReportInfoWhenNoCudnn()
    {
        assertEquals(HealthStatus.INFO, new CudnnCheck().run(host("nogpu")).status());
    }

    @Test
    void shouldPassInstallWhenLauncherExecutableAndJarsPresent() throws IOException
    {
        final Path launcher = file("opt/bitfusion/bin/bitfusion", "#!/bin/sh\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        file("opt/bitfusion/lib/bitfusion-cli.jar", "");
        file("opt/bitfusion/lib/picocli.jar", "");

        assertResult(HealthStatus.PASS, "/opt/bitfusion: bin/bitfusion executable, 2 jar(s) in lib",
            InstallCheck.run(host(tmp), "/opt/bitfusion"));
    }

    @Test
    void shouldPassInstallWhenBuildTreeHoldsJarsInCliTargetLib() throws IOException
    {
        final Path launcher = file("src/bitfusion/bin/bitfusion", "#!/bin/sh\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        file("src/bitfusion/cli/target/lib/bitfusion-cli.jar", "");

        assertResult(HealthStatus.PASS, "/src/bitfusion: bin/bitfusion executable, 1 jar(s) in cli/target/lib",
            InstallCheck.run(host(tmp), "/src/bitfusion"));
    }

    @Test
    void shouldBeFatalWhenLauncherNotExecutable() throws IOException
    {
        final Path launcher = file("opt/bitfusion/bin/bitfusion", "#!/bin/sh\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rw-r--r--"));
        file("opt/bitfusion/lib/bitfusion-cli.jar", "");
        final HostView host = host(tmp);

        // root may execute any file with an x bit, but none is set here, so the check holds as root too
        assertResult(HealthStatus.FATAL, "/opt/bitfusion/bin/bitfusion is not executable (chmod +x)",
            InstallCheck.run(host, "/opt/bitfusion"));
    }

    @Test
    void shouldBeFatalWhenLauncherOrJarsMissing() throws IOException
    {
        file("opt/bitfusion/lib/bitfusion-cli.jar", "");
        assertResult(HealthStatus.FATAL, "Missing /opt/bitfusion/bin/bitfusion", InstallCheck.run(host(tmp), "/opt/bitfusion"));

        final Path launcher = file("opt/other/bin/bitfusion", "#!/bin/sh\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertResult(HealthStatus.FATAL, "No jars in /opt/other/lib", InstallCheck.run(host(tmp), "/opt/other"));
    }

    @Test
    void shouldSkipInstallWhenRootUnknown()
    {
        assertEquals(HealthStatus.SKIPPED, InstallCheck.run(host("pass"), null).status());
    }

    @Test
    void shouldPassJvmWhenFeatureReleaseAtLeast17()
    {
        assertResult(HealthStatus.PASS, "Current version: 17.0.15+6", LibraryDependencyCheck.jvm(host("pass")));
    }

    @Test
    void shouldBeFatalWhenJvmTooOld()
    {
        final HostView host = host("pass").withJavaVersion(Runtime.Version.parse("11.0.2"));

        assertResult(HealthStatus.FATAL, "Current version: 11.0.2 < 17", LibraryDependencyCheck.jvm(host));
    }

    @Test
    void shouldPassNativeLibraryWhenItLoads() throws IOException
    {
        final Path library = file("opt/bitfusion/lib/libcuda.so.1", "");
        final List<String> loaded = new ArrayList<>();
        final HostView host = host(tmp).withNativeLoader(loaded::add);

        final CheckResult result = LibraryDependencyCheck.nativeLibrary(host, "/opt/bitfusion/lib/libcuda.so.1");

        assertEquals("library dependency: libcuda.so.1", result.name());
        assertResult(HealthStatus.PASS, "Loaded /opt/bitfusion/lib/libcuda.so.1", result);
        assertEquals(List.of(library.toAbsolutePath().toString()), loaded);
    }

    @Test
    void shouldBeFatalWithLinkerMessageWhenNativeLibraryFailsToLoad() throws IOException
    {
        file("opt/bitfusion/lib/libcuda.so.1", "");
        final HostView host = host(tmp).withNativeLoader((path) ->
        {
            throw new UnsatisfiedLinkError("libjvm.so: cannot open shared object file");
        });

        assertResult(HealthStatus.FATAL,
            "Cannot load /opt/bitfusion/lib/libcuda.so.1: libjvm.so: cannot open shared object file",
            LibraryDependencyCheck.nativeLibrary(host, "/opt/bitfusion/lib/libcuda.so.1"));
    }

    @Test
    void shouldReportInfoWhenNativeLibraryNotInstalled()
    {
        assertResult(HealthStatus.INFO, "Not installed at /opt/bitfusion/lib/libcuda.so.1",
            LibraryDependencyCheck.nativeLibrary(host(tmp), "/opt/bitfusion/lib/libcuda.so.1"));
    }

    @Test
    void shouldReallyFailToLoadFileThatIsNotALibrary() throws IOException
    {
        file("opt/bitfusion/lib/libcuda.so.1", "not an ELF file");
        final HostView host = host(tmp).withNativeLoader(System::load);

        assertEquals(HealthStatus.FATAL,
            LibraryDependencyCheck.nativeLibrary(host, "/opt/bitfusion/lib/libcuda.so.1").status());
    }
}
