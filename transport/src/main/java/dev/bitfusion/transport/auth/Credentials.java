package dev.bitfusion.transport.auth;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * Proof of a shared token without sending it: HMAC-SHA256 keyed by the token over a transcript of the request
 * (its purpose, its fields, the sender's clock). Both ends build the transcript from the same fields with a
 * {@link Transcript}, so a proof made for one request does not fit another.
 * <p>
 * Thread safety: immutable.
 */
public final class Credentials
{
    /** The length of a proof: one HMAC-SHA256. */
    public static final int PROOF_LENGTH = 32;

    private static final String MAC_ALGORITHM = "HmacSHA256";
    /** Keys the derivations when there is no token: HMAC keys may not be empty. */
    private static final byte[] NO_TOKEN_KEY = "bitfusion: no token".getBytes(StandardCharsets.US_ASCII);

    private final byte[] token;

    private Credentials(final byte[] token)
    {
        this.token = token;
    }

    /**
     * @param token the token, surrounding white space ignored; null or blank for none.
     * @return credentials holding it.
     */
    public static Credentials ofToken(final String token)
    {
        final String stripped = token == null ? "" : token.strip();
        return new Credentials(stripped.isEmpty() ? null : stripped.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * @return credentials without a token: proofs are empty.
     */
    public static Credentials none()
    {
        return new Credentials(null);
    }

    public boolean hasToken()
    {
        return token != null;
    }

    /**
     * @return the proof of the token over the transcript, or an empty array without a token.
     */
    public byte[] prove(final Transcript transcript)
    {
        return token == null ? new byte[0] : hmac(token, transcript.toByteArray());
    }

    /**
     * @return true when the presented proof is this token's over the transcript (compared in constant time); always
     * false without a token.
     */
    public boolean verifies(final Transcript transcript, final byte[] presented)
    {
        return token != null && presented.length == PROOF_LENGTH &&
            MessageDigest.isEqual(hmac(token, transcript.toByteArray()), presented);
    }

    /**
     * Derive a key that only holders of this token's side of an exchange can compute.
     *
     * @param secret  the exchange's shared secret.
     * @param purpose what the key is for, so keys for different uses differ.
     * @return 32 bytes of key.
     */
    public byte[] deriveKey(final byte[] secret, final Transcript purpose)
    {
        final byte[] tokenBound = hmac(token != null ? token : NO_TOKEN_KEY, secret);
        return hmac(tokenBound, purpose.toByteArray());
    }

    static byte[] hmac(final byte[] key, final byte[] data)
    {
        try
        {
            final Mac mac = Mac.getInstance(MAC_ALGORITHM);
            mac.init(new SecretKeySpec(key, MAC_ALGORITHM));
            return mac.doFinal(data);
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("this JVM lacks " + MAC_ALGORITHM, ex);
        }
    }

    /**
     * The bytes a proof or a derived key covers: a purpose, then fields, each written unambiguously (fixed width,
     * or length first), so two different requests never share a transcript.
     * <p>
     * Thread safety: not thread safe; made, filled and used by one thread.
     */
    public static final class Transcript
    {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);

        /**
         * @param purpose what the transcript is of: "session-open", "list-gpus", ...
         */
        public Transcript(final String purpose)
        {
            add(purpose);
        }

        public Transcript add(final long value)
        {
            for (int shift = 56; shift >= 0; shift -= 8)
            {
                bytes.write((int)(value >>> shift));
            }
            return this;
        }

        public Transcript add(final String value)
        {
            return add(value.getBytes(StandardCharsets.UTF_8));
        }

        /**
         * @return this, with all of {@code other} so far: a transcript that extends another.
         */
        public Transcript add(final Transcript other)
        {
            return add(other.toByteArray());
        }

        public Transcript add(final byte[] value)
        {
            add(value.length);
            bytes.write(value, 0, value.length);
            return this;
        }

        byte[] toByteArray()
        {
            return bytes.toByteArray();
        }
    }
}
