package dev.bitfusion.transport.auth;

import dev.bitfusion.transport.auth.Credentials.Transcript;

/**
 * What each proof of the protocol covers, written once for both ends: a client builds the transcript of its request
 * from the fields it sends, the server from the fields it received, and a proof made for one request fits no other.
 * <pre>
 *   session-open    correlationId, protocolVersion, gpuIndex, memoryFraction (bits), memoryMb, replyStreamId,
 *                   requestStreamId, requestSessionId, sessionReplyStreamId, timestampMs, clientId, clientPublicKey,
 *                   encrypt (0 or 1), reservationId, reservationKey, holdOnly (0 or 1), waitTicket, waitSinceMs
 *   session-accept  the session-open transcript, sessionId, serverPublicKey          (the server's proof)
 *   session-keys    the session-accept transcript, then what the key is for: "requests" (the request tag key),
 *                   "request-cipher", "replies", "reply-cipher" (the last three in encrypted sessions only)
 *   list-gpus       correlationId, replyStreamId, timestampMs, waitTicket, waitSinceMs, waitMemoryFraction (bits),
 *                   waitMemoryMb
 *   health-query    correlationId, replyStreamId, timestampMs
 * </pre>
 * Thread safety: stateless.
 */
public final class Handshakes
{
    /** The purpose of a ListGpus proof. */
    public static final String LIST_GPUS = "list-gpus";
    /** The purpose of a HealthQuery proof. */
    public static final String HEALTH_QUERY = "health-query";

    /** How far a client's clock may be from the server's: proofs outside it are refused as stale or replayed. */
    public static final long MAX_CLOCK_SKEW_MS = 5 * 60 * 1000L;

    private Handshakes()
    {
    }

    public static Transcript sessionOpen(
        final long correlationId,
        final int protocolVersion,
        final int gpuIndex,
        final double memoryFraction,
        final long memoryMb,
        final int replyStreamId,
        final int requestStreamId,
        final int requestSessionId,
        final int sessionReplyStreamId,
        final long timestampMs,
        final String clientId,
        final byte[] clientPublicKey,
        final boolean encrypt,
        final long reservationId,
        final byte[] reservationKey,
        final boolean holdOnly,
        final long waitTicket,
        final long waitSinceMs)
    {
        return new Transcript("session-open")
            .add(correlationId)
            .add(protocolVersion)
            .add(gpuIndex)
            .add(Double.doubleToLongBits(memoryFraction))
            .add(memoryMb)
            .add(replyStreamId)
            .add(requestStreamId)
            .add(requestSessionId)
            .add(sessionReplyStreamId)
            .add(timestampMs)
            .add(clientId)
            .add(clientPublicKey)
            .add(encrypt ? 1 : 0)
            .add(reservationId)
            .add(reservationKey)
            .add(holdOnly ? 1 : 0)
            .add(waitTicket)
            .add(waitSinceMs);
    }

    public static Transcript sessionAccept(final Transcript sessionOpen, final long sessionId, final byte[] serverPublicKey)
    {
        return new Transcript("session-accept").add(sessionOpen).add(sessionId).add(serverPublicKey);
    }

    /**
     * @param credentials   the token both ends hold.
     * @param sharedSecret  the X25519 secret of the session's key exchange.
     * @param sessionAccept the session-accept transcript.
     * @param encrypt       whether the session's payloads are encrypted.
     * @return the authenticator of the session's request stream.
     */
    public static FragmentAuthenticator requestAuthenticator(
        final Credentials credentials, final byte[] sharedSecret, final Transcript sessionAccept, final boolean encrypt)
    {
        return FragmentAuthenticator.of(sessionKey(credentials, sharedSecret, sessionAccept, "requests"),
            encrypt ? sessionKey(credentials, sharedSecret, sessionAccept, "request-cipher") : null);
    }

    /**
     * Replies are tagged and encrypted in encrypted sessions only: elsewhere they travel as they are.
     *
     * @return the authenticator of the session's reply stream, which encrypts.
     */
    public static FragmentAuthenticator replyAuthenticator(
        final Credentials credentials, final byte[] sharedSecret, final Transcript sessionAccept)
    {
        return FragmentAuthenticator.of(sessionKey(credentials, sharedSecret, sessionAccept, "replies"),
            sessionKey(credentials, sharedSecret, sessionAccept, "reply-cipher"));
    }

    /**
     * Each use has a key of its own, so the two directions never share a key (nor a nonce under one) and a tag
     * key never serves as a cipher key.
     */
    private static byte[] sessionKey(
        final Credentials credentials, final byte[] sharedSecret, final Transcript sessionAccept, final String use)
    {
        return credentials.deriveKey(sharedSecret, new Transcript("session-keys").add(sessionAccept).add(use));
    }

    public static Transcript listGpus(
        final long correlationId,
        final int replyStreamId,
        final long timestampMs,
        final long waitTicket,
        final long waitSinceMs,
        final double waitMemoryFraction,
        final long waitMemoryMb)
    {
        return query(LIST_GPUS, correlationId, replyStreamId, timestampMs)
            .add(waitTicket)
            .add(waitSinceMs)
            .add(Double.doubleToLongBits(waitMemoryFraction))
            .add(waitMemoryMb);
    }

    /**
     * @param purpose {@link #LIST_GPUS} or {@link #HEALTH_QUERY}.
     */
    public static Transcript query(
        final String purpose, final long correlationId, final int replyStreamId, final long timestampMs)
    {
        return new Transcript(purpose).add(correlationId).add(replyStreamId).add(timestampMs);
    }
}
