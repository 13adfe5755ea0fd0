package dev.bitfusion.cli;

import dev.bitfusion.agent.pool.GpuPoolInfo;
import dev.bitfusion.agent.pool.PoolQuery;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * {@code bitfusion smi --json}: one JSON document per look at the pool, on one line of its own, so
 * {@code --watch --json} is a stream of JSON lines. The shape is stable: every key is always there, null when the
 * value is unknown (a server that did not answer, a slice with no rate yet, a client id that does not say).
 * <pre>
 * {"timestampMs":1714557600000, "intervalMs":1000,
 *  "servers":[
 *   {"address":"10.0.0.5:56001", "reachable":true, "error":null, "hostname":"gpu-a",
 *    "backend":"cuda", "cudaVersion":"12.4", "driverVersion":"560.35.03", "protocolVersion":5, "openSessions":2,
 *    "waiters":0,
 *    "gpus":[{"index":0, "name":"NVIDIA H100", "totalBytes":..., "reservedBytes":..., "allocatedBytes":...,
 *             "slices":[{"reservation":3, "sliceBytes":..., "allocatedBytes":..., "ageMs":65000, "sessions":2,
 *                        "calls":123456, "bytes":987654, "callsPerSecond":1234.5, "bytesPerSecond":98765.4,
 *                        "client":{"id":"ann@ws1:4242 (4242@ws1) bitfusion run: python train.py [bitfusion run 9f..]",
 *                                  "user":"ann", "host":"ws1", "pid":4242, "command":"python train.py",
 *                                  "tag":"bitfusion run 9f.."}}]}]},
 *   {"address":"10.0.0.6:56001", "reachable":false, "error":"no answer from ...", "hostname":null,
 *    "backend":null, "cudaVersion":null, "driverVersion":null, "protocolVersion":null, "openSessions":null,
 *    "waiters":null, "gpus":[]}]}
 * </pre>
 * {@code reachable} is false when the server did not answer at all; a server that answered but refused the
 * credentials is reachable, with its refusal in {@code error} and no GPUs. {@code waiters} counts the clients waiting
 * in the server's line for room ({@code bitfusion run --timeout}). The host name and versions are those the server
 * reports (what {@code --filter} compares); a version it cannot tell is null. {@code intervalMs} is the time since the
 * look before by this host's clock; the rates are over the servers' own interval ({@link PoolSample}). A slice's
 * {@code calls} and {@code bytes} count from its reservation on, so a script may compute rates of its own.
 * <p>
 * Thread safety: stateless apart from its mapper, which is thread safe.
 */
final class PoolSampleJsonWriter
{
    private final JsonMapper mapper = JsonMapper.builder().build();

    /**
     * @param sample the look at the pool.
     * @param out    where the line goes.
     */
    void write(final PoolSample sample, final Appendable out) throws IOException
    {
        out.append(mapper.writeValueAsString(toJson(sample))).append('\n');
    }

    ObjectNode toJson(final PoolSample sample)
    {
        final ObjectNode document = mapper.createObjectNode();
        document.put("timestampMs", sample.timestampMs());
        document.put("intervalMs", sample.intervalMs());
        final ArrayNode servers = document.putArray("servers");
        for (final PoolQuery.Answer answer : sample.answers())
        {
            servers.add(server(sample, answer));
        }
        return document;
    }

    private ObjectNode server(final PoolSample sample, final PoolQuery.Answer answer)
    {
        final ObjectNode server = mapper.createObjectNode();
        final GpuPoolInfo pool = answer.gpus();
        server.put("address", answer.server().toString());
        server.put("reachable", pool != null || answer.refused());
        server.put("error", answer.error());
        server.put("hostname", pool != null ? told(pool.hostname()) : null);
        server.put("backend", pool != null ? pool.backend() : null);
        server.put("cudaVersion", pool != null ? told(pool.cudaVersion()) : null);
        server.put("driverVersion", pool != null ? told(pool.driverVersion()) : null);
        server.put("protocolVersion", pool != null ? pool.protocolVersion() : null);
        server.put("openSessions", pool != null ? pool.openSessions() : null);
        server.put("waiters", pool != null ? answer.waiters() : null);
        final ArrayNode gpus = server.putArray("gpus");
        if (pool != null)
        {
            for (final GpuPoolInfo.Gpu gpu : pool.gpus())
            {
                gpus.add(gpu(sample, answer, gpu));
            }
        }
        return server;
    }

    private ObjectNode gpu(final PoolSample sample, final PoolQuery.Answer answer, final GpuPoolInfo.Gpu gpu)
    {
        final ObjectNode node = mapper.createObjectNode();
        node.put("index", gpu.index());
        node.put("name", gpu.name());
        node.put("totalBytes", gpu.totalBytes());
        node.put("reservedBytes", gpu.totalBytes() - gpu.unreservedBytes());
        node.put("allocatedBytes", gpu.allocatedBytes());
        final ArrayNode slices = node.putArray("slices");
        for (final GpuPoolInfo.Slice slice : gpu.slices())
        {
            final ObjectNode sliceNode = slices.addObject();
            sliceNode.put("reservation", slice.sessionId());
            sliceNode.put("sliceBytes", slice.sliceBytes());
            sliceNode.put("allocatedBytes", slice.allocatedBytes());
            sliceNode.put("ageMs", known(slice.ageMs()));
            sliceNode.put("sessions", slice.sessions() >= 0 ? Integer.valueOf(slice.sessions()) : null);
            sliceNode.put("calls", known(slice.calls()));
            sliceNode.put("bytes", known(slice.bytes()));
            final PoolSample.Rate rate = sample.rateOf(answer.server(), slice);
            sliceNode.put("callsPerSecond", rate != null ? Double.valueOf(rate.callsPerSecond()) : null);
            sliceNode.put("bytesPerSecond", rate != null ? Double.valueOf(rate.bytesPerSecond()) : null);
            final ClientIdentity client = ClientIdentity.parse(slice.clientId());
            final ObjectNode clientNode = sliceNode.putObject("client");
            clientNode.put("id", client.id());
            clientNode.put("user", client.user());
            clientNode.put("host", client.host());
            clientNode.put("pid", client.pid());
            clientNode.put("command", client.command());
            clientNode.put("tag", client.tag());
        }
        return node;
    }

    /**
     * @return the text, or null for the empty text of a server that cannot tell.
     */
    private static String told(final String text)
    {
        return text == null || text.isEmpty() ? null : text;
    }

    /**
     * @return the value, or null for the -1 of a server that does not say.
     */
    private static Long known(final long value)
    {
        return value >= 0 ? value : null;
    }
}
