package dev.bitfusion.cli;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static dev.bitfusion.cli.PoolSampleTest.SERVER_A;
import static dev.bitfusion.cli.PoolSampleTest.SERVER_B;
import static dev.bitfusion.cli.PoolSampleTest.answer;
import static dev.bitfusion.cli.PoolSampleTest.slice;
import static dev.bitfusion.cli.PoolSampleTest.unreachable;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolSampleJsonWriterTest
{
    private final JsonMapper mapper = JsonMapper.builder().build();

    @Test
    void shouldWriteOneLinePerLookWithEveryKeyOfTheDocumentedShape() throws IOException
    {
        final PoolSample first = PoolSample.of(List.of(answer(SERVER_A, slice(3, 10_000, 100, 5000)),
            unreachable(SERVER_B)), 1_000, null);
        final PoolSample second = PoolSample.of(List.of(answer(SERVER_A, slice(3, 11_000, 400, 8000)),
            unreachable(SERVER_B)), 2_000, first);
        final StringBuilder out = new StringBuilder();

        new PoolSampleJsonWriter().write(second, out);

        assertTrue(out.toString().endsWith("\n"));
        assertEquals(1, out.toString().lines().count(), "one document, one line: " + out);
        final JsonNode document = mapper.readTree(out.toString());
        assertEquals(List.of("timestampMs", "intervalMs", "servers"), keys(document));
        assertEquals(2_000, document.get("timestampMs").asLong());
        assertEquals(1_000, document.get("intervalMs").asLong());

        final JsonNode up = document.get("servers").get(0);
        assertEquals(List.of("address", "reachable", "error", "hostname", "backend", "cudaVersion", "driverVersion",
            "protocolVersion", "openSessions", "waiters", "gpus"), keys(up));
        assertEquals("gpu-host", up.get("hostname").asString());
        assertEquals("13.0", up.get("cudaVersion").asString());
        assertEquals("emulated", up.get("driverVersion").asString());
        assertEquals(3, up.get("waiters").asInt());
        assertEquals("10.0.0.5:56001", up.get("address").asString());
        assertTrue(up.get("reachable").asBoolean());
        assertTrue(up.get("error").isNull());
        assertEquals("emulated", up.get("backend").asString());
        final JsonNode gpu = up.get("gpus").get(0);
        assertEquals(List.of("index", "name", "totalBytes", "reservedBytes", "allocatedBytes", "slices"), keys(gpu));
        assertEquals(1L << 30, gpu.get("reservedBytes").asLong(), "total less unreserved");
        final JsonNode slice = gpu.get("slices").get(0);
        assertEquals(List.of("reservation", "sliceBytes", "allocatedBytes", "ageMs", "sessions", "calls", "bytes",
            "callsPerSecond", "bytesPerSecond", "client"), keys(slice));
        assertEquals(3, slice.get("reservation").asLong());
        assertEquals(2, slice.get("sessions").asInt());
        assertEquals(400, slice.get("calls").asLong());
        assertEquals(300.0, slice.get("callsPerSecond").asDouble());
        assertEquals(3000.0, slice.get("bytesPerSecond").asDouble());
        final JsonNode client = slice.get("client");
        assertEquals(List.of("id", "user", "host", "pid", "command", "tag"), keys(client));
        assertEquals("ws1", client.get("host").asString());
        assertEquals(4242, client.get("pid").asLong());
        assertEquals("train", client.get("command").asString());

        final JsonNode down = document.get("servers").get(1);
        assertEquals(keys(up), keys(down), "the same keys whether or not the server answered");
        assertFalse(down.get("reachable").asBoolean());
        assertTrue(down.get("error").asString().startsWith("no answer from bitfusion server 10.0.0.6:56001"));
        assertTrue(down.get("backend").isNull());
        assertTrue(down.get("waiters").isNull());
        assertTrue(down.get("hostname").isNull());
        assertTrue(down.get("cudaVersion").isNull());
        assertEquals(0, down.get("gpus").size());
    }

    @Test
    void shouldWriteNullWhereAValueIsUnknown() throws IOException
    {
        final GpuPoolInfo.Slice redacted = new GpuPoolInfo.Slice(5, "(another tenant)", 1L << 30, 0, -1, -1, -1, -1);
        final PoolQuery.Answer refused = new PoolQuery.Answer(SERVER_B, null, "AUTH_REFUSED: no token", 0, -1, true);
        final StringBuilder out = new StringBuilder();

        new PoolSampleJsonWriter().write(PoolSample.of(List.of(answer(SERVER_A, redacted), refused), 1_000, null), out);

        final JsonNode document = mapper.readTree(out.toString());
        final JsonNode slice = document.get("servers").get(0).get("gpus").get(0).get("slices").get(0);
        for (final String key : List.of("ageMs", "sessions", "calls", "bytes", "callsPerSecond", "bytesPerSecond"))
        {
            assertTrue(slice.get(key).isNull(), key + " in " + slice);
        }
        assertEquals("(another tenant)", slice.get("client").get("id").asString());
        for (final String key : List.of("user", "host", "pid", "command", "tag"))
        {
            assertTrue(slice.get("client").get(key).isNull(), key);
        }
        final JsonNode server = document.get("servers").get(1);
        assertTrue(server.get("reachable").asBoolean(), "it answered, with a refusal");
        assertEquals("AUTH_REFUSED: no token", server.get("error").asString());
    }

    @Test
    void shouldEscapeWhatAClientIdOrAReasonHolds() throws IOException
    {
        final String hostile = "u@h:9 (9@h) bitfusion run: echo \"quoted\" \\ back\nnew line\ttab \u0001 \u00e9\u4e2d " +
            "</script> [t]";
        final PoolQuery.Answer answer = new PoolQuery.Answer(SERVER_A, new GpuPoolInfo("emulated", 5, 1, List.of(
            new GpuPoolInfo.Gpu(0, "GPU \"0\"", 1L << 30, 0, 0,
                List.of(new GpuPoolInfo.Slice(1, hostile, 1L << 30, 0, 1, 1, 1, 1)))), "gpu-host", "13.0", "emulated"),
            null, 0, -1, false);
        final PoolQuery.Answer down = new PoolQuery.Answer(SERVER_B, null, "why \"not\"\r\n", 0, -1, false);
        final StringBuilder out = new StringBuilder();

        new PoolSampleJsonWriter().write(PoolSample.of(List.of(answer, down), 1_000, null), out);

        assertEquals(1, out.toString().lines().count(), "a line break in a value is escaped: " + out);
        final JsonNode document = mapper.readTree(out.toString());
        final JsonNode gpu = document.get("servers").get(0).get("gpus").get(0);
        assertEquals("GPU \"0\"", gpu.get("name").asString());
        final JsonNode client = gpu.get("slices").get(0).get("client");
        assertEquals(hostile, client.get("id").asString());
        assertEquals("echo \"quoted\" \\ back\nnew line\ttab \u0001 \u00e9\u4e2d </script>", client.get("command").asString());
        assertEquals("why \"not\"\r\n", document.get("servers").get(1).get("error").asString());
    }

    private static List<String> keys(final JsonNode node)
    {
        final List<String> keys = new ArrayList<>();
        node.propertyNames().forEach(keys::add);
        return keys;
    }
}
