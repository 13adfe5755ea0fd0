package dev.bitfusion.server.health;

import dev.bitfusion.health.BitfusionVersion;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthThresholds;
import dev.bitfusion.health.LocalHealth;
import dev.bitfusion.health.check.ShadowMemoryCheck;
import dev.bitfusion.health.host.HostView;
import dev.bitfusion.server.GpuServer;
import dev.bitfusion.server.ServerErrorLog;
import dev.bitfusion.server.TokenAuthenticator;
import dev.bitfusion.server.backend.GpuBackend;
import dev.bitfusion.server.backend.GpuDescriptor;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.auth.Credentials;
import dev.bitfusion.transport.auth.Handshakes;
import dev.bitfusion.transport.protocol.HealthFactsEncoder;
import dev.bitfusion.transport.protocol.HealthQueryDecoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Answers {@code HealthQuery} on the control stream with {@code HealthFacts}: whether the client's token
 * is accepted, the backend and driver versions, each GPU's memory, sensors and link where the backend
 * knows them, the server's own host checks ({@link LocalHealth#hostChecks}), and the address the query came
 * from as the server sees it, so the client can tell whether a NAT lies between them.
 * <p>
 * The query is answered whatever protocol version the client speaks, so that {@code bitfusion health}
 * can report a mismatch instead of a silent server. Nothing is invented: a number the backend cannot
 * tell is sent as -1 and a flag as -1, and the client's checks turn those into INFO or SKIPPED. The
 * emulated backend has no driver, sensors, ECC or PCIe link, so it reports all of those as unknown.
 * <p>
 * <pre>
 *   HealthQuery  (control stream): correlationId, protocolVersion, replyStreamId, timestampMs, authProof, padding
 *   HealthFacts  (reply stream):   correlationId, protocolVersion, tokenAccepted, cudaDriverVersion,
 *                                  hostMemoryBytes, p2pSupported,
 *                                  gpus[index, memory, temperature, ECC, compute mode, link widths,
 *                                       stream mem ops, host pointer on device, name],
 *                                  hostChecks[group, name, status, detail],
 *                                  backend, bitfusionVersion, driverVersion, message,
 *                                  observedClientAddress
 * </pre>
 * A server with a token answers a query that does not prove it with "who it is" only: its protocol version
 * and why the query was refused, in no more bytes than the query had (no amplification), at once from the control
 * thread; it leaves the observed address empty, giving every byte it may send to the reason. Host checks run {@code dmesg} and read {@code /sys}, which may take seconds, so an accepted query is
 * answered by a worker thread of its own; a flood of queries is dropped beyond a short queue rather than held.
 * <p>
 * Thread safety: {@link #onHealthQuery} on the control thread only; {@link #encodeFacts} from any one
 * thread at a time per buffer.
 */
public final class HealthResponder
{
    /**
     * Sends one encoded message to a client's reply stream, which it may not have connected yet.
     */
    @FunctionalInterface
    public interface ReplySender
    {
        /**
         * @param channel  the channel back to the client, on the path its query came by.
         * @param streamId its reply stream.
         * @param message  the encoded message; the sender copies it before returning.
         * @param length   its length.
         */
        void send(String channel, int streamId, DirectBuffer message, int length);
    }

    /** Tri-state flag and number meaning "the backend cannot tell". */
    public static final int UNKNOWN = -1;

    /** CU_DEVICE_ATTRIBUTE_COMPUTE_MODE. */
    static final int ATTRIBUTE_COMPUTE_MODE = 20;
    /** CU_DEVICE_ATTRIBUTE_ECC_ENABLED. */
    static final int ATTRIBUTE_ECC_ENABLED = 32;
    /** CU_DEVICE_ATTRIBUTE_PCI_BUS_ID. */
    static final int ATTRIBUTE_PCI_BUS_ID = 33;
    /** CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID. */
    static final int ATTRIBUTE_PCI_DEVICE_ID = 34;
    /** CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID. */
    static final int ATTRIBUTE_PCI_DOMAIN_ID = 50;
    /** CU_DEVICE_ATTRIBUTE_CAN_USE_HOST_POINTER_FOR_REGISTERED_MEM. */
    static final int ATTRIBUTE_HOST_POINTER_FOR_REGISTERED_MEM = 91;
    /** CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_MEM_OPS_V1. */
    static final int ATTRIBUTE_STREAM_MEM_OPS = 92;

    /** ECC states on the wire, see the schema (0, unsupported, is for backends that can tell). */
    static final int ECC_DISABLED = 1;
    static final int ECC_ENABLED = 2;

    static final String EMULATED_KIND = "emulated";
    private static final String NVIDIA_DRIVER_VERSION_FILE = "/sys/module/nvidia/version";
    private static final int QUEUED_QUERIES = 8;
    private static final long WORKER_KEEP_ALIVE_S = 30;

    private final GpuBackend backend;
    private final TokenAuthenticator authenticator;
    private final ServerErrorLog errorLog;
    private final HostView host;
    private final HealthThresholds thresholds;
    private final ReplySender sender;
    private final HealthQueryDecoder queryDecoder = new HealthQueryDecoder();
    private final ThreadPoolExecutor worker;

    /**
     * A responder that probes the real host with the default thresholds.
     *
     * @param context the server's configuration: backend, authenticator, error log.
     * @param sender  sends the answer.
     */
    public HealthResponder(final GpuServer.Context context, final ReplySender sender)
    {
        this(context, HostView.system(), HealthThresholds.DEFAULTS, sender);
    }

    /**
     * @param context                the server's configuration: backend, authenticator, error log.
     * @param host                   the host whose checks are shipped.
     * @param thresholds             the limits of those checks.
     * @param sender                 sends the answer.
     */
    public HealthResponder(
        final GpuServer.Context context,
        final HostView host,
        final HealthThresholds thresholds,
        final ReplySender sender)
    {
        this.backend = context.backend();
        this.authenticator = context.authenticator();
        this.errorLog = context.errorLog();
        this.host = host;
        this.thresholds = thresholds;
        this.sender = sender;
        worker = new ThreadPoolExecutor(1, 1, WORKER_KEEP_ALIVE_S, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(QUEUED_QUERIES), (task) ->
            {
                final Thread thread = new Thread(task, "bitfusion-health");
                thread.setDaemon(true);
                return thread;
            });
        // Health queries are rare: no thread lingers between them.
        worker.allowCoreThreadTimeOut(true);
    }

    /**
     * Decode a query on the control thread, refuse it at once or queue its answer.
     *
     * @param buffer        holding the message.
     * @param offset        of the message body, after the header.
     * @param blockLength   from the header.
     * @param version       from the header.
     * @param replyChannel  the channel back to the client.
     * @param clientAddress the query's source address as the server sees it, or null over IPC.
     * @param requestLength the whole message's length: a refusal is no longer.
     * @param malformed     why the query's lengths cannot be trusted, or null when they were checked and can: then
     *                      only its fixed fields are read, and it is refused.
     */
    public void onHealthQuery(
        final DirectBuffer buffer,
        final int offset,
        final int blockLength,
        final int version,
        final String replyChannel,
        final String clientAddress,
        final int requestLength,
        final String malformed)
    {
        queryDecoder.wrap(buffer, offset, blockLength, version);
        final long correlationId = queryDecoder.correlationId();
        final int replyStreamId = queryDecoder.replyStreamId();
        if (malformed != null)
        {
            errorLog.record("control: health query refused: " + malformed);
            refuse(correlationId, replyChannel, replyStreamId, "health query refused: " + malformed, requestLength);
            return;
        }
        final long timestampMs = queryDecoder.timestampMs();
        final byte[] proof = new byte[Math.min(queryDecoder.authProofLength(), Credentials.PROOF_LENGTH + 1)];
        queryDecoder.getAuthProof(proof, 0, proof.length);
        final TokenAuthenticator.Access access = authenticator.authorize(
            Handshakes.query(Handshakes.HEALTH_QUERY, correlationId, replyStreamId, timestampMs),
            proof, correlationId, timestampMs, System.currentTimeMillis());
        if (!access.granted())
        {
            refuse(correlationId, replyChannel, replyStreamId, authenticator.refusal(), requestLength);
            return;
        }

        try
        {
            worker.execute(() ->
            {
                try
                {
                    final ExpandableArrayBuffer reply = new ExpandableArrayBuffer(4096);
                    final int length = encodeFacts(correlationId, clientAddress, reply);
                    sender.send(replyChannel, replyStreamId, reply, length);
                }
                catch (final RuntimeException ex)
                {
                    // The executor would swallow it and the client would only see a timeout.
                    errorLog.record("health query failed: " + ex);
                }
            });
        }
        catch (final RejectedExecutionException ex)
        {
            errorLog.record("control: health query dropped: " + QUEUED_QUERIES + " queries already waiting");
        }
    }

    private void refuse(
        final long correlationId, final String replyChannel, final int replyStreamId, final String why, final int maxLength)
    {
        final ExpandableArrayBuffer reply = new ExpandableArrayBuffer(256);
        final int length = encodeRefusal(correlationId, why, maxLength, reply);
        if (length > 0)
        {
            sender.send(replyChannel, replyStreamId, reply, length);
        }
    }

    /**
     * Encode the answer to a query that did not prove the token: the protocol version and why, no longer than
     * the query was.
     *
     * @param maxLength the query's length.
     * @return the encoded length, or 0 when even a refusal without a reason would be longer than the query:
     * then the query gets no answer.
     */
    public static int encodeRefusal(
        final long correlationId, final String why, final int maxLength, final MutableDirectBuffer buffer)
    {
        final HealthFactsEncoder encoder = new HealthFactsEncoder()
            .wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
            .correlationId(correlationId)
            .protocolVersion(Protocol.VERSION);
        encoder.tokenAccepted(0).cudaDriverVersion(UNKNOWN).hostMemoryBytes(UNKNOWN).p2pSupported(UNKNOWN);
        encoder.gpusCount(0);
        encoder.hostChecksCount(0);
        encoder.backend("").bitfusionVersion("").driverVersion("");
        final int room = maxLength - MessageHeaderEncoder.ENCODED_LENGTH - encoder.encodedLength() -
            HealthFactsEncoder.messageHeaderLength() - HealthFactsEncoder.observedClientAddressHeaderLength();
        if (room < 0)
        {
            return 0;
        }
        encoder.message(why.substring(0, Math.min(why.length(), room)));
        encoder.observedClientAddress("");
        return MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength();
    }

    /**
     * Probe the backend and the host and encode the answer to an accepted query, header included.
     *
     * @param correlationId the query's.
     * @param clientAddress the query's source address as the server sees it, or null over IPC.
     * @param buffer        where to encode.
     * @return the encoded length.
     */
    public int encodeFacts(final long correlationId, final String clientAddress, final MutableDirectBuffer buffer)
    {
        final HealthFactsEncoder encoder = new HealthFactsEncoder()
            .wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
            .correlationId(correlationId)
            .protocolVersion(Protocol.VERSION);

        final boolean emulated = EMULATED_KIND.equals(backend.kind());
        encoder.tokenAccepted(1)
            // The driver's cuDriverGetVersion; the emulated GPU has no driver, and health says so rather than
            // report the driver API it implements (list_gpus reports that, for placement filters).
            .cudaDriverVersion(emulated ? UNKNOWN : backend.cudaVersion())
            .hostMemoryBytes(hostMemoryBytes())
            // No backend tests peer access yet; unknown rather than assumed.
            .p2pSupported(UNKNOWN);

        final List<GpuDescriptor> gpus = backend.gpus();
        final HealthFactsEncoder.GpusEncoder gpusEncoder = encoder.gpusCount(gpus.size());
        for (final GpuDescriptor gpu : gpus)
        {
            gpusEncoder.next()
                .index(gpu.index())
                .memoryTotalBytes(gpu.totalBytes())
                .temperatureC(UNKNOWN)
                .eccState(emulated ? UNKNOWN : eccState(gpu))
                .eccCorrectableErrors(UNKNOWN)
                .eccUncorrectableErrors(UNKNOWN)
                .computeMode(emulated ? UNKNOWN : attribute(gpu, ATTRIBUTE_COMPUTE_MODE))
                .currentLinkWidth(emulated ? UNKNOWN : linkWidth(gpu, "current_link_width"))
                .maxLinkWidth(emulated ? UNKNOWN : linkWidth(gpu, "max_link_width"))
                // What cuDeviceGetAttribute tells applications, emulated or not.
                .streamMemOps(flag(attribute(gpu, ATTRIBUTE_STREAM_MEM_OPS)))
                .hostPointerOnDevice(flag(attribute(gpu, ATTRIBUTE_HOST_POINTER_FOR_REGISTERED_MEM)))
                .name(gpu.name());
        }

        final List<CheckResult> checks = LocalHealth.hostChecks(host, thresholds);
        final HealthFactsEncoder.HostChecksEncoder checksEncoder = encoder.hostChecksCount(checks.size());
        for (final CheckResult check : checks)
        {
            checksEncoder.next()
                .checkGroup(check.group().name())
                .checkName(check.name())
                .status(check.status().name())
                .detail(check.detail());
        }

        encoder.backend(backend.kind())
            .bitfusionVersion(BitfusionVersion.current())
            .driverVersion(emulated ? "" : nvidiaDriverVersion())
            .message("")
            .observedClientAddress(null == clientAddress ? "" : clientAddress);
        return MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength();
    }

    private long hostMemoryBytes()
    {
        try
        {
            return ShadowMemoryCheck.memTotalBytes(host);
        }
        catch (final IOException | NumberFormatException ex)
        {
            return UNKNOWN;
        }
    }

    private String nvidiaDriverVersion()
    {
        try
        {
            return host.readTrimmed(NVIDIA_DRIVER_VERSION_FILE);
        }
        catch (final IOException ex)
        {
            return "";
        }
    }

    private int linkWidth(final GpuDescriptor gpu, final String file)
    {
        final int domain = attribute(gpu, ATTRIBUTE_PCI_DOMAIN_ID);
        final int bus = attribute(gpu, ATTRIBUTE_PCI_BUS_ID);
        final int device = attribute(gpu, ATTRIBUTE_PCI_DEVICE_ID);
        if (domain < 0 || bus < 0 || device < 0)
        {
            return UNKNOWN;
        }
        final String path = String.format(Locale.ROOT, "/sys/bus/pci/devices/%04x:%02x:%02x.0/%s", domain, bus, device, file);
        try
        {
            return Integer.parseInt(host.readTrimmed(path));
        }
        catch (final IOException | NumberFormatException ex)
        {
            return UNKNOWN;
        }
    }

    private static int eccState(final GpuDescriptor gpu)
    {
        final int enabled = attribute(gpu, ATTRIBUTE_ECC_ENABLED);
        if (enabled < 0)
        {
            return UNKNOWN;
        }
        return enabled > 0 ? ECC_ENABLED : ECC_DISABLED;
    }

    private static int flag(final int attributeValue)
    {
        return attributeValue < 0 ? UNKNOWN : (attributeValue > 0 ? 1 : 0);
    }

    private static int attribute(final GpuDescriptor gpu, final int attributeId)
    {
        final int[] ids = gpu.attributeIds();
        for (int i = 0; i < ids.length; i++)
        {
            if (ids[i] == attributeId)
            {
                return gpu.attributeValues()[i];
            }
        }
        return UNKNOWN;
    }
}
