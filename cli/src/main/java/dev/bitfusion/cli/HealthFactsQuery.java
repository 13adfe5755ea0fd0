package dev.bitfusion.cli;

import dev.bitfusion.agent.wire.ClientLink;
import dev.bitfusion.agent.wire.ControlClient;
import dev.bitfusion.agent.wire.SessionRefusedException;
import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.ServerAddress;
import dev.bitfusion.health.server.BackendKind;
import dev.bitfusion.health.server.ComputeMode;
import dev.bitfusion.health.server.EccState;
import dev.bitfusion.health.server.GpuFacts;
import dev.bitfusion.health.server.ServerFacts;
import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.LocalRoute;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.auth.Credentials;
import dev.bitfusion.transport.auth.Handshakes;
import dev.bitfusion.transport.protocol.HealthFactsDecoder;
import dev.bitfusion.transport.protocol.HealthQueryEncoder;
import dev.bitfusion.transport.protocol.MessageHeaderDecoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Asks one server for its health facts over UDP ({@code HealthQuery} on the control stream, answered by
 * {@code HealthFacts}), presenting the client's token so the answer also says whether it is accepted.
 * <p>
 * Wire values of -1 mean the server cannot tell; they become {@link GpuFacts#UNKNOWN}, null flags or
 * {@link EccState#UNKNOWN}, which the checks report as SKIPPED or INFO. Beside the server's answer (which says
 * the address the query came from as the server saw it) it keeps this host's own address towards the server,
 * so the NAT check can compare the two.
 * <p>
 * Thread safety: each call uses its own media driver; calls may run concurrently.
 */
final class HealthFactsQuery
{
    private static final int NOT_MEASURED = -1;

    private HealthFactsQuery()
    {
    }

    /**
     * @param server    the server.
     * @param token     the token to present, possibly empty.
     * @param timeoutNs how long to wait for the answer; the server runs its host checks first.
     * @return what it reported, with latency and bandwidth not measured.
     * @throws HealthProbeException when it does not answer in time or refuses the token.
     */
    static ServerFacts query(final Endpoint server, final String token, final long timeoutNs)
    {
        final ClientLink link;
        try
        {
            link = ClientLink.towards(server, "udp", "health");
        }
        catch (final UncheckedIOException | SessionRefusedException ex)
        {
            throw new HealthProbeException(ex.getMessage());
        }
        try (link; ControlClient control = new ControlClient(link, server))
        {
            final long correlationId = ControlClient.newCorrelationId();
            final long timestampMs = System.currentTimeMillis();
            final byte[] proof = Credentials.ofToken(token).prove(
                Handshakes.query(Handshakes.HEALTH_QUERY, correlationId, control.replyStreamId(), timestampMs));
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[4096]);
            final HealthQueryEncoder encoder = new HealthQueryEncoder()
                .wrapAndApplyHeader(buffer, 0, new MessageHeaderEncoder())
                .correlationId(correlationId)
                .protocolVersion(Protocol.VERSION)
                .replyStreamId(control.replyStreamId())
                .timestampMs(timestampMs)
                .putAuthProof(proof, 0, proof.length)
                .putPadding(ControlClient.REFUSAL_ROOM, 0, ControlClient.REFUSAL_ROOM.length);

            final ServerAddress address = new ServerAddress(server.host(), server.port());
            final String clientAddress = ownAddressTowards(server);
            final ServerFacts[] answer = new ServerFacts[1];
            final String[] refusal = new String[1];
            final MessageHeaderDecoder header = new MessageHeaderDecoder();
            final HealthFactsDecoder decoder = new HealthFactsDecoder();
            control.exchange(buffer, MessageHeaderEncoder.ENCODED_LENGTH + encoder.encodedLength(),
                (message, offset, messageLength, frame) ->
                {
                    header.wrap(message, offset);
                    if (header.templateId() != HealthFactsDecoder.TEMPLATE_ID ||
                        header.schemaId() != HealthFactsDecoder.SCHEMA_ID)
                    {
                        return;
                    }
                    decoder.wrapAndApplyHeader(message, offset, header);
                    if (decoder.correlationId() != correlationId)
                    {
                        return;
                    }
                    if (decoder.tokenAccepted() == 0)
                    {
                        refusal[0] = refusalOf(decoder);
                    }
                    else
                    {
                        answer[0] = decode(address, clientAddress, decoder);
                    }
                },
                () -> answer[0] != null || refusal[0] != null, timeoutNs);
            if (refusal[0] != null)
            {
                throw new HealthProbeException(refusal[0]);
            }
            return answer[0];
        }
        catch (final SessionRefusedException ex)
        {
            throw new HealthProbeException(ex.getMessage());
        }
    }

    /**
     * @param address       the server.
     * @param clientAddress this host's own address towards the server, or null when unknown.
     * @param decoder       wrapped over an accepted answer.
     * @return the facts, not measured.
     */
    static ServerFacts decode(final ServerAddress address, final String clientAddress, final HealthFactsDecoder decoder)
    {
        final int protocolVersion = decoder.protocolVersion();
        final int cudaDriverVersion = decoder.cudaDriverVersion();
        final long hostMemoryBytes = decoder.hostMemoryBytes();
        final Boolean p2pSupported = flag(decoder.p2pSupported());

        final List<GpuFacts> gpus = new ArrayList<>();
        for (final HealthFactsDecoder.GpusDecoder gpu : decoder.gpus())
        {
            final int index = gpu.index();
            final long memoryTotalBytes = gpu.memoryTotalBytes();
            final int temperatureC = gpu.temperatureC();
            final EccState ecc = eccState(gpu.eccState());
            final long corrected = gpu.eccCorrectableErrors();
            final long uncorrected = gpu.eccUncorrectableErrors();
            final ComputeMode computeMode = ComputeMode.fromCuValue(gpu.computeMode());
            final int currentLinkWidth = gpu.currentLinkWidth();
            final int maxLinkWidth = gpu.maxLinkWidth();
            final Boolean streamMemOps = flag(gpu.streamMemOps());
            final Boolean hostPointerOnDevice = flag(gpu.hostPointerOnDevice());
            gpus.add(new GpuFacts(index, gpu.name(), memoryTotalBytes, temperatureC, ecc, corrected, uncorrected,
                computeMode, currentLinkWidth, maxLinkWidth, streamMemOps, hostPointerOnDevice));
        }

        final List<CheckResult> hostChecks = new ArrayList<>();
        for (final HealthFactsDecoder.HostChecksDecoder check : decoder.hostChecks())
        {
            final String group = check.checkGroup();
            final String name = check.checkName();
            final String status = check.status();
            final String detail = check.detail();
            try
            {
                hostChecks.add(new CheckResult(CheckGroup.valueOf(group), name, HealthStatus.valueOf(status), detail));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new HealthProbeException("server " + address + " sent a host check this client does not know (" +
                    group + "/" + status + "); install the same bitfusion version on client and server");
            }
        }

        final String backend = decoder.backend();
        final String bitfusionVersion = decoder.bitfusionVersion();
        final String driverVersion = decoder.driverVersion();
        decoder.skipMessage();
        final String observedClientAddress = decoder.observedClientAddress();
        return new ServerFacts(address, backendKind(address, backend), bitfusionVersion, protocolVersion,
            driverVersion.isEmpty() ? null : driverVersion, cudaDriverVersion, gpus, p2pSupported, hostMemoryBytes,
            NOT_MEASURED, NOT_MEASURED, hostChecks, clientAddress,
            observedClientAddress.isEmpty() ? null : observedClientAddress);
    }

    /**
     * @return the address this host's packets to the server leave from, as the server would write it (IPv6 without
     * brackets), or null when there is no route: then the query itself fails and no NAT check is made.
     */
    private static String ownAddressTowards(final Endpoint server)
    {
        try
        {
            final String address = LocalRoute.addressTowards(server);
            return address.startsWith("[") ? address.substring(1, address.length() - 1) : address;
        }
        catch (final UncheckedIOException ex)
        {
            return null;
        }
    }

    private static String refusalOf(final HealthFactsDecoder decoder)
    {
        decoder.gpus().forEachRemaining((gpu) -> gpu.skipName());
        decoder.hostChecks().forEachRemaining((check) ->
        {
            check.skipCheckGroup();
            check.skipCheckName();
            check.skipStatus();
            check.skipDetail();
        });
        decoder.skipBackend();
        decoder.skipBitfusionVersion();
        decoder.skipDriverVersion();
        return decoder.message();
    }

    private static BackendKind backendKind(final ServerAddress address, final String kind)
    {
        return switch (kind)
        {
            case "emulated" -> BackendKind.EMULATED;
            case "cuda" -> BackendKind.CUDA;
            default -> throw new HealthProbeException("server " + address + " runs a backend this client does not know: '" +
                kind + "'; install the same bitfusion version on client and server");
        };
    }

    private static EccState eccState(final int wire)
    {
        return switch (wire)
        {
            case 0 -> EccState.UNSUPPORTED;
            case 1 -> EccState.DISABLED;
            case 2 -> EccState.ENABLED;
            default -> EccState.UNKNOWN;
        };
    }

    private static Boolean flag(final int wire)
    {
        return wire < 0 ? null : wire > 0;
    }
}
