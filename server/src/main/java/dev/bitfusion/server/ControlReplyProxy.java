package dev.bitfusion.server;

import dev.bitfusion.server.backend.GpuBackend;
import dev.bitfusion.server.backend.GpuDescriptor;
import dev.bitfusion.transport.Protocol;
import dev.bitfusion.transport.protocol.GpuListEncoder;
import dev.bitfusion.transport.protocol.MessageHeaderEncoder;
import dev.bitfusion.transport.protocol.SessionOpenReplyEncoder;
import dev.bitfusion.transport.protocol.SessionStatus;
import org.agrona.ExpandableArrayBuffer;

import java.util.List;

/**
 * Encodes the control stream's own replies and hands them to the {@link ControlReplySender}: refused session
 * opens, and pool listings. A refusal to a request that did not prove the server's token is cut to the length
 * of the request, so a stranger never makes the server send more than it sent.
 * <pre>
 *   SessionOpenReply  correlationId, status (why refused), protocolVersion, no slice, no attributes, message
 *   GpuList           correlationId, protocolVersion, openSessions, status, clientIdsShown, waiters, waitersAhead,
 *                     gpus[index, totalBytes, unreservedBytes, allocatedBytes,
 *                          slices[sessionId, sliceBytes, allocatedBytes, ageMs, calls, bytes, sessions,
 *                                 clientId], name],
 *                     backend, message (why refused), hostname, cudaVersion, driverVersion
 * </pre>
 * The host name and versions are what placement filters on ({@code --filter server.cuda-version=12.4}); the CUDA
 * version is written as people and Bitfusion's filters say it, major.minor.
 * <p>
 * Who holds a slice (its client id) is shown to the server's administrator, on a server without a token, and to
 * the asker for the slices of its own tag; to anyone else it reads {@link #OTHER_TENANT}. A slice's calls and bytes
 * are cumulative over all the sessions it has had, so a client that lists twice gets the rate between.
 * Thread safety: the control thread only.
 */
final class ControlReplyProxy
{
    /** What a slice's client id reads as to those who may not see it. */
    static final String OTHER_TENANT = "(another tenant)";

    private static final byte[] NOTHING = new byte[0];

    private final ControlReplySender sender;
    private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64 * 1024);
    private final MessageHeaderEncoder headerEncoder = new MessageHeaderEncoder();
    private final SessionOpenReplyEncoder openReplyEncoder = new SessionOpenReplyEncoder();
    private final GpuListEncoder gpuListEncoder = new GpuListEncoder();

    ControlReplyProxy(final ControlReplySender sender)
    {
        this.sender = sender;
    }

    /**
     * @return false when the reply was dropped: too many replies wait to go out.
     */
    /**
     * @param maxLength the longest the reply may be: the request's length when it did not prove the token.
     * @return false when the reply was dropped: too many replies wait to go out, or even a refusal without a
     * reason would be longer than allowed.
     */
    boolean sendRefusal(
        final long correlationId,
        final String replyChannel,
        final int replyStreamId,
        final SessionStatus status,
        final String reason,
        final int maxLength)
    {
        openReplyEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .correlationId(correlationId)
            .status(status)
            .sessionId(0)
            .requestStreamId(0)
            .protocolVersion(Protocol.VERSION)
            .sliceBytes(0)
            .computeCapabilityMajor(0)
            .computeCapabilityMinor(0);
        openReplyEncoder.attributesCount(0);
        openReplyEncoder.deviceName("");
        final int room = maxLength - MessageHeaderEncoder.ENCODED_LENGTH - openReplyEncoder.encodedLength() -
            SessionOpenReplyEncoder.messageHeaderLength() - SessionOpenReplyEncoder.serverPublicKeyHeaderLength() -
            SessionOpenReplyEncoder.serverProofHeaderLength();
        if (room < 0)
        {
            return false;
        }
        openReplyEncoder.message(reason.length() > room ? reason.substring(0, room) : reason)
            .putServerPublicKey(NOTHING, 0, 0)
            .putServerProof(NOTHING, 0, 0);
        return sender.send(replyChannel, replyStreamId, buffer,
            MessageHeaderEncoder.ENCODED_LENGTH + openReplyEncoder.encodedLength());
    }

    /**
     * @param status    why in a word: AUTH_REFUSED, BAD_REQUEST.
     * @param reason    why the list is refused.
     * @param maxLength the request's length: the refusal is no longer.
     * @return false when the reply was dropped.
     */
    boolean sendGpuListRefusal(
        final long correlationId,
        final String replyChannel,
        final int replyStreamId,
        final SessionStatus status,
        final String reason,
        final int maxLength)
    {
        gpuListEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .correlationId(correlationId)
            .protocolVersion(Protocol.VERSION)
            .openSessions(0)
            .status(status)
            .clientIdsShown(0)
            .waiters(0)
            .waitersAhead(-1);
        gpuListEncoder.gpusCount(0);
        gpuListEncoder.backend("");
        final int room = maxLength - MessageHeaderEncoder.ENCODED_LENGTH - gpuListEncoder.encodedLength() -
            GpuListEncoder.messageHeaderLength() - GpuListEncoder.hostnameHeaderLength() -
            GpuListEncoder.cudaVersionHeaderLength() - GpuListEncoder.driverVersionHeaderLength();
        if (room < 0)
        {
            return false;
        }
        gpuListEncoder.message(reason.length() > room ? reason.substring(0, room) : reason)
            .hostname("").cudaVersion("").driverVersion("");
        return sender.send(replyChannel, replyStreamId, buffer,
            MessageHeaderEncoder.ENCODED_LENGTH + gpuListEncoder.encodedLength());
    }

    /**
     * @param backend     the server's GPUs, their kind and versions.
     * @param hostname    the server's host name.
     * @param registry    their slices and the sessions that hold them.
     * @param showAll     whether every slice's client id may be shown.
     * @param clientTag   the asker's own tag: the client ids ending in " [clientTag]" are shown; empty for none.
     * @param waiters      how many clients wait in line for room.
     * @param waitersAhead how many of them are ahead of the asker, or -1 when it is not in line.
     * @return false when the reply was dropped: too many replies wait to go out.
     */
    boolean sendGpuList(
        final long correlationId,
        final String replyChannel,
        final int replyStreamId,
        final GpuBackend backend,
        final String hostname,
        final SessionRegistry registry,
        final boolean showAll,
        final String clientTag,
        final int waiters,
        final int waitersAhead)
    {
        final String ownSuffix = clientTag.isEmpty() ? null : " [" + clientTag + "]";
        gpuListEncoder.wrapAndApplyHeader(buffer, 0, headerEncoder)
            .correlationId(correlationId)
            .protocolVersion(Protocol.VERSION)
            .openSessions(registry.size())
            .status(SessionStatus.OPENED)
            .clientIdsShown(showAll ? 1 : 0)
            .waiters(waiters)
            .waitersAhead(waitersAhead);
        final List<GpuDescriptor> gpus = backend.gpus();
        final long nowMs = System.currentTimeMillis();
        final GpuListEncoder.GpusEncoder gpusEncoder = gpuListEncoder.gpusCount(gpus.size());
        for (final GpuDescriptor gpu : gpus)
        {
            // A slice is a reservation: its holder's client and what all the job's sessions hold of it together.
            final List<Reservation> slices = registry.reservationsOn(gpu.index());
            long allocated = 0;
            for (final Reservation reservation : slices)
            {
                allocated += reservation.budget().heldBytes();
            }
            gpusEncoder.next()
                .index(gpu.index())
                .totalBytes(gpu.totalBytes())
                .unreservedBytes(registry.ledger(gpu.index()).unreservedBytes())
                .allocatedBytes(allocated);
            final GpuListEncoder.GpusEncoder.SlicesEncoder slicesEncoder = gpusEncoder.slicesCount(slices.size());
            for (final Reservation reservation : slices)
            {
                final String clientId = reservation.holderClientId();
                slicesEncoder.next()
                    .sessionId(reservation.id())
                    .sliceBytes(reservation.budget().sliceBytes())
                    .allocatedBytes(reservation.budget().heldBytes())
                    .ageMs(Math.max(0, nowMs - reservation.startedAtMs()))
                    .calls(reservation.calls())
                    .bytes(reservation.bytes())
                    .sessions(reservation.sessionCount())
                    .clientId(showAll || (ownSuffix != null && clientId.endsWith(ownSuffix)) ? clientId : OTHER_TENANT);
            }
            gpusEncoder.name(gpu.name());
        }
        gpuListEncoder.backend(backend.kind()).message("")
            .hostname(hostname)
            .cudaVersion(cudaVersionText(backend.cudaVersion()))
            .driverVersion(backend.driverVersion());
        return sender.send(replyChannel, replyStreamId, buffer,
            MessageHeaderEncoder.ENCODED_LENGTH + gpuListEncoder.encodedLength());
    }

    /**
     * @param cudaVersion as cuDriverGetVersion reports it, 12040, or -1 when unknown.
     * @return "12.4", or empty when unknown.
     */
    static String cudaVersionText(final int cudaVersion)
    {
        return cudaVersion < 0 ? "" : cudaVersion / 1000 + "." + cudaVersion % 1000 / 10;
    }
}
