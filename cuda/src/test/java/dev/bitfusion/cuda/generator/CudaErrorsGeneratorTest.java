package dev.bitfusion.cuda.generator;

import dev.bitfusion.cuda.generator.CudaErrorsGenerator.ErrorCode;
import dev.bitfusion.cuda.generator.CudaErrorsGenerator.ErrorCodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

public class CudaErrorsGeneratorTest
{
    private static final Path MODULE = Path.of(System.getProperty("user.dir"));
    private static final Path CUDA_H = Path.of(System.getenv().getOrDefault("CUDA_HOME", "/usr/local/cuda"), "include/cuda.h");
    private static final Path GCC = Path.of("/usr/bin/gcc");

    /** Shaped like cuda.h: doc comments holding commas and braces, other enums around, a hex value. */
    private static final String HEADER = """
        #define CUDA_VERSION 12345
        typedef enum CUctx_flags_enum { CU_CTX_SCHED_AUTO = 0x00, CU_CTX_SCHED_SPIN = 0x01 } CUctx_flags;
        typedef enum cudaError_enum {
            /**
             * The API call returned with no errors. In the case of query calls, this
             * also means that the operation being queried is complete (see
             * ::cuEventQuery() and ::cuStreamQuery()).
             */
            CUDA_SUCCESS                              = 0,
            /** One, two; { braces } = and, commas. */
            CUDA_ERROR_INVALID_VALUE                  = 1,

            CUDA_ERROR_ILLEGAL_ADDRESS = 0x2BC, // trailing comment, with a comma
            CUDA_ERROR_UNKNOWN                        = 999
        } CUresult;
        typedef enum CUdevice_P2PAttribute_enum { CU_DEVICE_P2P_ATTRIBUTE_PERFORMANCE_RANK = 0x01 } CUdevice_P2PAttribute;
        """;

    /**
     * @return name to value of every CUresult this build generated from: cuda.h when the toolkit is present,
     * else the committed snapshot (as the generator chooses).
     */
    public static Map<String, Integer> codesOfThisBuild() throws IOException
    {
        final ErrorCodes codes = Files.isReadable(CUDA_H) ?
            CudaErrorsGenerator.parseHeader(Files.readString(CUDA_H)) :
            CudaErrorsGenerator.parseSnapshot(Files.readString(MODULE.resolve(CudaErrorsGenerator.SNAPSHOT)));
        final Map<String, Integer> byName = new LinkedHashMap<>();
        codes.codes().forEach(code -> byName.put(code.name(), code.value()));
        return byName;
    }

    @Test
    void shouldReadEveryEnumeratorOfTheErrorEnumAndNothingElse()
    {
        final ErrorCodes codes = CudaErrorsGenerator.parseHeader(HEADER);

        assertEquals("12345", codes.cudaVersion());
        assertEquals(List.of(new ErrorCode("CUDA_SUCCESS", 0), new ErrorCode("CUDA_ERROR_INVALID_VALUE", 1),
            new ErrorCode("CUDA_ERROR_ILLEGAL_ADDRESS", 700), new ErrorCode("CUDA_ERROR_UNKNOWN", 999)), codes.codes());
    }

    @Test
    void shouldReadTheToolkitsHeaderWhenPresent() throws IOException
    {
        assumeTrue(Files.isReadable(CUDA_H), "no cuda.h at " + CUDA_H);
        final Map<String, Integer> codes = codesOfThisBuild();

        assertEquals(700, codes.get("CUDA_ERROR_ILLEGAL_ADDRESS"));
        assertEquals(46, codes.get("CUDA_ERROR_DEVICE_UNAVAILABLE"));
        assertEquals(999, codes.get("CUDA_ERROR_UNKNOWN"));
        assertTrue(codes.size() > 90, "cuda.h 13 defines about a hundred: " + codes.size());
    }

    @Test
    void shouldRefuseAHeaderWithoutTheErrorEnumOrWithAValueItCannotRead()
    {
        assertThrows(IllegalStateException.class, () -> CudaErrorsGenerator.parseHeader("#define CUDA_VERSION 1\n"));
        assertThrows(IllegalStateException.class, () -> CudaErrorsGenerator.parseHeader(
            "typedef enum cudaError_enum { CUDA_SUCCESS = 0, CUDA_ERROR_X = CUDA_SUCCESS + 1 } CUresult;"));
        assertThrows(IllegalStateException.class, () -> CudaErrorsGenerator.parseHeader(
            "typedef enum cudaError_enum { CUDA_SUCCESS = 0, CUDA_ERROR_X = 0 } CUresult;"));
    }

    @Test
    void shouldReadBackTheSnapshotItWrites()
    {
        final ErrorCodes codes = CudaErrorsGenerator.parseHeader(HEADER);

        assertEquals(codes, CudaErrorsGenerator.parseSnapshot(CudaErrorsGenerator.snapshotText(codes)));
    }

    @Test
    void shouldRefuseADescriptionOfANameTheHeaderDoesNotDefine()
    {
        final List<ErrorCode> codes = CudaErrorsGenerator.parseHeader(HEADER).codes();

        assertEquals(Map.of("CUDA_ERROR_UNKNOWN", "unknown error"),
            CudaErrorsGenerator.parseStrings("# comment\n\nCUDA_ERROR_UNKNOWN unknown error\n", codes));
        final IllegalStateException ex = assertThrows(IllegalStateException.class,
            () -> CudaErrorsGenerator.parseStrings("CUDA_ERROR_NOT_A_CODE made up\n", codes));
        assertTrue(ex.getMessage().contains("CUDA_ERROR_NOT_A_CODE"), ex.getMessage());
        assertThrows(IllegalStateException.class,
            () -> CudaErrorsGenerator.parseStrings("CUDA_SUCCESS no error\nCUDA_SUCCESS again\n", codes));
    }

    @Test
    void shouldDescribeACodeWithoutTheDriversWordsByItsName()
    {
        assertEquals("illegal address",
            CudaErrorsGenerator.description(new ErrorCode("CUDA_ERROR_ILLEGAL_ADDRESS", 700), Map.of()));
        assertEquals("an illegal memory access was encountered", CudaErrorsGenerator.description(
            new ErrorCode("CUDA_ERROR_ILLEGAL_ADDRESS", 700),
            Map.of("CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered")));
    }

    @Test
    void shouldDescribeOnlyCodesOfTheCommittedSnapshot() throws IOException
    {
        final ErrorCodes snapshot = CudaErrorsGenerator.parseSnapshot(
            Files.readString(MODULE.resolve(CudaErrorsGenerator.SNAPSHOT)));

        final Map<String, String> strings = CudaErrorsGenerator.parseStrings(
            Files.readString(MODULE.resolve(CudaErrorsGenerator.STRINGS)), snapshot.codes());
        assertEquals("no error", strings.get("CUDA_SUCCESS"));
    }

    @Test
    void shouldServeNamesAndDescriptionsFromTheCTable(@TempDir final Path dir) throws Exception
    {
        assumeTrue(Files.isExecutable(GCC), "no gcc at " + GCC);
        final ErrorCodes codes = CudaErrorsGenerator.parseHeader(HEADER);
        final Map<String, String> strings = Map.of("CUDA_ERROR_ILLEGAL_ADDRESS", "an \"illegal\" memory access");
        Files.writeString(dir.resolve("cuda_errors.h"), CudaErrorsGenerator.renderHeader(codes));
        Files.writeString(dir.resolve("cuda_errors.c"), CudaErrorsGenerator.renderTable(codes, strings));
        Files.writeString(dir.resolve("probe.c"), """
            #include <stdio.h>
            #include "cuda_errors.h"
            int main(void)
            {
                static const int probes[] = { CUDA_ERROR_ILLEGAL_ADDRESS, CUDA_SUCCESS, CUDA_ERROR_UNKNOWN, 2 };
                for (int i = 0; i < 4; i++)
                {
                    const bf_cuda_error *found = bf_cuda_error_find(probes[i]);
                    printf("%d %s %s\\n", probes[i], found ? found->name : "-", found ? found->description : "-");
                }
                printf("%d\\n", bf_cuda_error_count);
                return 0;
            }
            """);
        final Process gcc = new ProcessBuilder(GCC.toString(), "-std=gnu11", "-Wall", "-Wextra", "-Werror",
            "-o", "probe", "probe.c", "cuda_errors.c").directory(dir.toFile()).redirectErrorStream(true).start();
        final String compiled = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, gcc.waitFor(), compiled);

        final Process probe = new ProcessBuilder(dir.resolve("probe").toString()).redirectErrorStream(true).start();
        final String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, probe.waitFor(), output);
        assertEquals("""
            700 CUDA_ERROR_ILLEGAL_ADDRESS an "illegal" memory access
            0 CUDA_SUCCESS success
            999 CUDA_ERROR_UNKNOWN unknown
            2 - -
            4
            """, output);
    }

    @Test
    void shouldGenerateJavaThatNamesEachCode()
    {
        final String java = CudaErrorsGenerator.renderJava(CudaErrorsGenerator.parseHeader(HEADER), Map.of());

        assertTrue(java.contains("public static final int CUDA_ERROR_ILLEGAL_ADDRESS = 700;"), java);
        assertTrue(java.contains("case CUDA_ERROR_ILLEGAL_ADDRESS -> \"CUDA_ERROR_ILLEGAL_ADDRESS\";"), java);
        assertTrue(java.contains("do not edit"), java);
    }
}
