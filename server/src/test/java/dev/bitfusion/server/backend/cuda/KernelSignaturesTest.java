package dev.bitfusion.server.backend.cuda;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class KernelSignaturesTest
{
    private static final Path KERNELS = Path.of("..", "emulator", "src", "test", "resources", "kernels");

    @Test
    void shouldReadTheLayoutFromPtxText() throws Exception
    {
        assertVectorAdd(KernelSignatures.of(Files.readAllBytes(KERNELS.resolve("vector_add.ptx"))));
    }

    @Test
    void shouldReadTheLayoutFromThePtxInAFatbin() throws Exception
    {
        assertVectorAdd(KernelSignatures.of(Files.readAllBytes(KERNELS.resolve("vector_add.fatbin"))));
    }

    @Test
    void shouldReadParameterLayoutsFromLz4CompressedCubins() throws Exception
    {
        // nvcc -fatbin -gencode arch=compute_90,code=sm_90 -Xfatbin -compress-all -compress-mode=speed vector_add.cu
        assertVectorAdd(KernelSignatures.of(Files.readAllBytes(
            Path.of("src", "test", "resources", "kernels", "vector_add_sm90_lz4.fatbin"))));
    }

    @Test
    void shouldReadParameterLayoutsFromZstdCompressedCubins() throws Exception
    {
        // nvcc -fatbin -gencode arch=compute_90,code=sm_90 -Xfatbin -compress-all vector_add.cu
        assertVectorAdd(KernelSignatures.of(Files.readAllBytes(
            Path.of("src", "test", "resources", "kernels", "vector_add_sm90_compressed.fatbin"))));
    }

    @Test
    void shouldReadTheLayoutFromCubinNvInfoWhenAFatbinHoldsMachineCodeOnly() throws Exception
    {
        assertVectorAdd(KernelSignatures.of(Files.readAllBytes(KERNELS.resolve("sass_only.fatbin"))));
    }

    @Test
    void shouldAgreeBetweenPtxAndCubinForStructParameters() throws Exception
    {
        final byte[] ptx = Files.readAllBytes(KERNELS.resolve("struct_params.ptx"));
        final KernelSignatures fromPtx = KernelSignatures.of(ptx);
        final KernelSignatures fromFatbin = KernelSignatures.of(Files.readAllBytes(KERNELS.resolve("struct_params.fatbin")));
        final String text = new String(ptx, java.nio.charset.StandardCharsets.UTF_8);
        final String kernel = text.substring(text.indexOf(".entry ") + 7, text.indexOf('(', text.indexOf(".entry "))).strip();
        assertNotNull(fromPtx.kernel(kernel), kernel);
        assertArrayEquals(fromPtx.kernel(kernel).offsets(), fromFatbin.kernel(kernel).offsets());
        assertArrayEquals(fromPtx.kernel(kernel).sizes(), fromFatbin.kernel(kernel).sizes());
    }

    @Test
    void shouldStripCudartsWrapperAndTerminatePtxForTheDriver() throws Exception
    {
        final byte[] fatbin = Files.readAllBytes(KERNELS.resolve("vector_add.fatbin"));
        final byte[] wrapped = new byte[16 + fatbin.length];
        wrapped[0] = (byte)0xB1;
        wrapped[1] = 0x43;
        wrapped[2] = 0x62;
        wrapped[3] = 0x46;
        System.arraycopy(fatbin, 0, wrapped, 16, fatbin.length);
        assertArrayEquals(fatbin, KernelSignatures.driverImage(wrapped));

        final byte[] ptx = ".version 8.0\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        final byte[] terminated = KernelSignatures.driverImage(ptx);
        assertEquals(ptx.length + 1, terminated.length);
        assertEquals(0, terminated[ptx.length]);
    }

    private static void assertVectorAdd(final KernelSignatures signatures)
    {
        final KernelSignatures.Signature vectorAdd = signatures.kernel("vectorAdd");
        assertNotNull(vectorAdd);
        assertArrayEquals(new int[]{ 0, 8, 16, 24 }, vectorAdd.offsets());
        assertArrayEquals(new int[]{ 8, 8, 8, 4 }, vectorAdd.sizes());
        assertEquals(28, vectorAdd.bufferSize());
    }
}
