package dev.bitfusion.systemtests;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.bitfusion.systemtests.CudaExamples.ROOT;
import static dev.bitfusion.systemtests.CudaExamples.binary;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code bin/bitfusion smi --json} as a script runs it, over a pool of two emulated servers and an address where
 * nothing listens, while {@code bitfusion run -p 0.5 -- kernel_loop 60} holds a slice and loops: the slice is shown
 * with the command and the pid of the run that holds it, its two sessions (the run's holder and the program's), calls
 * that grow between two looks at a rate above zero; the other server with nothing; the silent address unreachable.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SmiSystemTest
{
    private static final long GPU_MEMORY_MB = 2048;
    private static final long SMI_TIMEOUT_S = 60;

    @RegisterExtension
    final ClosedAfterEach resources = new ClosedAfterEach();

    @TempDir
    Path tmp;

    private final JsonMapper mapper = JsonMapper.builder().build();

    @BeforeAll
    static void buildExamples() throws IOException, InterruptedException
    {
        CudaExamples.buildAll();
    }

    @Test
    void shouldShowTheRunsSliceWithItsCommandPidSessionsAndGrowingCallsAndTheSilentServerUnreachable() throws Exception
    {
        final ServerProcess serverA = resources.add(ServerProcess.start(GPU_MEMORY_MB));
        final ServerProcess serverB = resources.add(ServerProcess.start(GPU_MEMORY_MB));
        final String silent = "127.0.0.1:" + ServerProcess.freeUdpPort();
        final BitfusionRun run = resources.add(BitfusionRun.start("-p", "0.5", "--server_list",
            serverA.serverList() + "," + serverB.serverList(), "--", binary("kernel_loop"), "60"));
        final String looping = run.awaitLine(line -> line.contains("looping"), 60_000);
        assertNotNull(looping, run.output());
        final long programPid = Long.parseLong(looping.replaceAll(".*pid (\\d+) looping.*", "$1"));
        final String pool = serverA.serverList() + "," + serverB.serverList() + "," + silent;

        final JsonNode first = smi("--json", "--server_list", pool);
        final JsonNode second = smi("--json", "--server_list", pool);

        final JsonNode slice = onlySlice(first);
        // The whole command line where the client id has room for it, else without the program's directory.
        final String command = slice.get("client").get("command").asString();
        assertTrue(command.equals(binary("kernel_loop") + " 60") || command.equals("kernel_loop 60"), slice.toString());
        assertEquals(run.pid(), slice.get("client").get("pid").asLong(), slice.toString());
        assertEquals(run.pid(), ProcessHandle.of(programPid).orElseThrow().parent().orElseThrow().pid(),
            "the program is the child of the run that holds its slice");
        assertTrue(slice.get("client").get("tag").asString().startsWith("bitfusion run "), slice.toString());
        assertEquals(2, slice.get("sessions").asInt(), "the run's holder and the program: " + slice);
        assertEquals(GPU_MEMORY_MB << 19, slice.get("sliceBytes").asLong(), slice.toString());
        assertTrue(slice.get("callsPerSecond").asDouble() > 0, "the program loops: " + slice);
        assertTrue(slice.get("bytesPerSecond").asDouble() > 0, slice.toString());

        final JsonNode later = onlySlice(second);
        assertEquals(slice.get("reservation").asLong(), later.get("reservation").asLong());
        assertTrue(later.get("calls").asLong() > slice.get("calls").asLong(), "calls grow: " + slice + " then " + later);
        assertTrue(later.get("ageMs").asLong() > slice.get("ageMs").asLong(), later.toString());

        final JsonNode servers = second.get("servers");
        assertEquals(3, servers.size(), second.toString());
        for (int i = 0; i < 2; i++)
        {
            assertTrue(servers.get(i).get("reachable").asBoolean(), servers.get(i).toString());
            assertTrue(servers.get(i).get("error").isNull(), servers.get(i).toString());
            assertEquals("emulated", servers.get(i).get("backend").asString());
        }
        final JsonNode dead = servers.get(2);
        assertEquals(silent, dead.get("address").asString());
        assertFalse(dead.get("reachable").asBoolean(), dead.toString());
        assertTrue(dead.get("error").asString().startsWith("no answer from bitfusion server " + silent), dead.toString());
        assertEquals(0, dead.get("gpus").size());
    }

    /**
     * @return the one slice of the pool; the other server's GPU has none.
     */
    private static JsonNode onlySlice(final JsonNode document)
    {
        final List<JsonNode> slices = new ArrayList<>();
        for (final JsonNode server : document.get("servers"))
        {
            for (final JsonNode gpu : server.get("gpus"))
            {
                gpu.get("slices").forEach(slices::add);
            }
        }
        assertEquals(1, slices.size(), document.toString());
        return slices.get(0);
    }

    /**
     * @return the one JSON document {@code bitfusion smi ARGS} printed; it must exit 1, as one server is silent.
     */
    private JsonNode smi(final String... args) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of(ROOT.resolve("bin/bitfusion").toString(), "smi"));
        command.addAll(List.of(args));
        final Path stdout = Files.createTempFile(tmp, "smi", ".json");
        final Path stderr = Files.createTempFile(tmp, "smi", ".err");
        final ProcessBuilder builder = new ProcessBuilder(command)
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile());
        builder.environment().remove("BITFUSION_SERVERS");
        final Process process = builder.start();
        try
        {
            if (!process.waitFor(SMI_TIMEOUT_S, TimeUnit.SECONDS))
            {
                fail("bitfusion smi did not finish in " + SMI_TIMEOUT_S + " s: " + Files.readString(stderr));
            }
        }
        finally
        {
            process.destroyForcibly();
        }
        final String json = Files.readString(stdout, StandardCharsets.UTF_8);
        assertEquals(1, process.exitValue(), json + Files.readString(stderr, StandardCharsets.UTF_8));
        assertEquals(1, json.lines().count(), "one look, one document: " + json);
        return mapper.readTree(json);
    }
}
