package dev.bitfusion.systemtests;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * examples/cuda/manifest.txt against the folder it describes, without nvcc: every program there is built,
 * every run names something built, and each entry has the fields its readers (build-examples.sh,
 * gpu-check.sh, {@link CudaExamples}) take.
 */
class CudaExamplesManifestTest
{
    private static final Path EXAMPLES = CudaExamples.MANIFEST.getParent();

    @Test
    void shouldBuildEverySourceOfTheExamplesFolderAndNothingElse() throws IOException
    {
        final Set<String> sources;
        try (Stream<Path> files = Files.list(EXAMPLES))
        {
            sources = files.map(file -> file.getFileName().toString())
                .filter(name -> name.endsWith(".cu") || name.endsWith(".c")).collect(Collectors.toCollection(TreeSet::new));
        }

        assertEquals(sources, builds().stream().map(fields -> fields[2]).collect(Collectors.toCollection(TreeSet::new)));
    }

    @Test
    void shouldBuildWithNvccOrGccOnly()
    {
        for (final String[] fields : builds())
        {
            assertEquals(4, fields.length, String.join("|", fields));
            final String compiler = fields[3].split(" ")[0];
            assertTrue(compiler.equals("nvcc") || compiler.equals("gcc"), String.join("|", fields));
        }
    }

    @Test
    void shouldRunOnlyWhatItBuildsAndJudgeEachRunByAVerdict()
    {
        final Set<String> outputs = builds().stream().map(fields -> fields[1]).collect(Collectors.toSet());
        final List<String[]> runs = CudaExamples.manifestLines().stream().filter(fields -> fields[0].equals("run")).toList();

        assertTrue(runs.size() >= 20, "the examples suite: " + runs.size());
        for (final String[] fields : runs)
        {
            assertEquals(5, fields.length, String.join("|", fields));
            assertTrue(outputs.contains(fields[1]), fields[1] + " is not built");
            assertTrue(!fields[3].isBlank(), fields[1] + " has no verdict");
        }
        assertEquals(runs.size(), CudaExamples.runs().size());
        assertEquals(List.of(CudaExamples.binary("driver_kernels.ptx"), CudaExamples.binary("driver_kernels.fatbin")),
            CudaExamples.runs().stream().filter(run -> run.program().equals("driver_api")).findFirst().orElseThrow()
                .arguments());
    }

    @Test
    void shouldTakeTheEmulatedGpusVerdictWhereTheManifestGivesOne()
    {
        assertEquals("priorities 0..0, bus 00000000:00:00.0 PASSED", CudaExamples.verdict("runtime_queries"));
        assertEquals("vector_add: 4096 elements PASSED", CudaExamples.verdict("vector_add"));
    }

    private static List<String[]> builds()
    {
        return CudaExamples.manifestLines().stream().filter(fields -> fields[0].equals("build")).toList();
    }
}
