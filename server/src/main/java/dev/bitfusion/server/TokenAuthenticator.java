package dev.bitfusion.server;

import dev.bitfusion.transport.auth.Credentials;
import dev.bitfusion.transport.auth.Handshakes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides what a control request may do from the proof it carries: a server started with a token answers only
 * requests that prove it (an HMAC keyed by the token over the request, see {@link Handshakes}), and shows who holds
 * each slice only to requests that prove the administrator's token. A server without a token serves everyone, as
 * a server on a trusted network may.
 * <p>
 * Each accepted proof is remembered until it grows stale ({@link Handshakes#MAX_CLOCK_SKEW_MS}), so a request
 * captured on the wire and sent again is refused.
 * <p>
 * Thread safety: {@link #authorize} from the control thread only; the rest is immutable.
 */
public final class TokenAuthenticator
{
    /** Proofs remembered at most: past this a server refuses new ones until old ones grow stale. */
    static final int MAX_REMEMBERED_PROOFS = 100_000;

    /** What a request may do. */
    public enum Access
    {
        /** The server has no token: anyone may do anything. */
        OPEN,
        /** The request proved the token. */
        TENANT,
        /** The request proved the administrator's token. */
        ADMIN,
        /** The request proved neither; {@link #refusal()} says why. */
        REFUSED;

        public boolean granted()
        {
            return this != REFUSED;
        }

        /**
         * @return whether the client ids of other tenants may be shown.
         */
        public boolean seesClientIds()
        {
            return this == OPEN || this == ADMIN;
        }
    }

    private final Credentials token;
    private final Credentials adminToken;
    /** Correlation ids of accepted proofs, with the client clock they carried, oldest first. */
    private final LinkedHashMap<Long, Long> acceptedProofs = new LinkedHashMap<>();
    private String refusal;

    private TokenAuthenticator(final Credentials token, final Credentials adminToken)
    {
        this.token = token;
        this.adminToken = adminToken;
    }

    /**
     * @return an authenticator that accepts every request (no token file configured).
     */
    public static TokenAuthenticator acceptAll()
    {
        return new TokenAuthenticator(Credentials.none(), Credentials.none());
    }

    /**
     * @param tokenFile      a file whose first line is the token; surrounding white space is ignored.
     * @param adminTokenFile the same for the administrator's token, or null for none.
     * @return an authenticator requiring the token.
     * @throws IOException when a file cannot be read.
     * @throws IllegalArgumentException when it holds no token, or both hold the same.
     */
    public static TokenAuthenticator fromFiles(final Path tokenFile, final Path adminTokenFile) throws IOException
    {
        final String token = readToken(tokenFile);
        final String adminToken = adminTokenFile == null ? "" : readToken(adminTokenFile);
        if (token.equals(adminToken))
        {
            throw new IllegalArgumentException("the administrator's token must differ from the tenants' token");
        }
        return new TokenAuthenticator(Credentials.ofToken(token), Credentials.ofToken(adminToken));
    }

    /**
     * @param tokenFile a file whose first line is the token.
     * @return an authenticator requiring that token, with no administrator's token.
     */
    public static TokenAuthenticator fromFile(final Path tokenFile) throws IOException
    {
        return fromFiles(tokenFile, null);
    }

    private static String readToken(final Path file) throws IOException
    {
        final String token = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (token.isEmpty())
        {
            throw new IllegalArgumentException("token file " + file + " is empty");
        }
        return token;
    }

    /**
     * @return true when requests must prove a token.
     */
    public boolean required()
    {
        return token.hasToken();
    }

    /**
     * @return the tenants' token, to derive session keys with.
     */
    public Credentials token()
    {
        return token;
    }

    /**
     * @param transcript    what the proof should cover, built from the request's fields.
     * @param proof         the proof the request carries.
     * @param correlationId the request's, remembered against replay.
     * @param timestampMs   the client's clock the request carries.
     * @param nowMs         this server's clock.
     * @return what the request may do.
     */
    public Access authorize(
        final Credentials.Transcript transcript,
        final byte[] proof,
        final long correlationId,
        final long timestampMs,
        final long nowMs)
    {
        if (!token.hasToken())
        {
            return Access.OPEN;
        }
        final Access access = adminToken.verifies(transcript, proof) ? Access.ADMIN :
            token.verifies(transcript, proof) ? Access.TENANT : null;
        if (access == null)
        {
            return refuse(proof.length == 0 ?
                "this server requires a token; set BITFUSION_TOKEN or ~/.bitfusion/token to the server's token" :
                "the token does not match the server's; set BITFUSION_TOKEN or ~/.bitfusion/token to it");
        }
        if (Math.abs(nowMs - timestampMs) > Handshakes.MAX_CLOCK_SKEW_MS)
        {
            return refuse("the client's clock is " + (timestampMs - nowMs) / 1000 + " s from the server's, " +
                "more than the " + Handshakes.MAX_CLOCK_SKEW_MS / 1000 + " s a proof may be old; set both clocks");
        }
        forgetStaleProofs(nowMs);
        if (acceptedProofs.containsKey(correlationId))
        {
            return refuse("this request was sent before: replays are refused");
        }
        if (acceptedProofs.size() >= MAX_REMEMBERED_PROOFS)
        {
            return refuse("the server has accepted " + MAX_REMEMBERED_PROOFS + " requests within " +
                Handshakes.MAX_CLOCK_SKEW_MS / 1000 + " s; try again later");
        }
        acceptedProofs.put(correlationId, nowMs);
        return access;
    }

    /**
     * @return why the last request was refused.
     */
    public String refusal()
    {
        return refusal;
    }

    private Access refuse(final String why)
    {
        refusal = why;
        return Access.REFUSED;
    }

    /** Proofs accepted longer ago than a proof may be old are refused by their clock anyway. */
    private void forgetStaleProofs(final long nowMs)
    {
        final Iterator<Map.Entry<Long, Long>> oldestFirst = acceptedProofs.entrySet().iterator();
        while (oldestFirst.hasNext() && nowMs - oldestFirst.next().getValue() > 2 * Handshakes.MAX_CLOCK_SKEW_MS)
        {
            oldestFirst.remove();
        }
    }
}
