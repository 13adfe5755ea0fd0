package dev.bitfusion.transport.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;

/**
 * The key of one copy between two servers ({@code PeerSend} to {@code PeerReceive}): the client draws 16 random
 * bytes per copy and tells both servers, inside each one's session request stream; every {@code PeerChunk}
 * fragment the sending server publishes is tagged under it, so the receiving server writes only bytes from the
 * server the client told to send them.
 * <p>
 * The key travels in request streams: in an encrypted session it is encrypted with the rest; in a session
 * authenticated by a token it is masked (XOR) with two words of key stream of the session's request tag key over
 * the request's correlation id ({@link FragmentAuthenticator#keyStreamWord}), which only the client and that
 * server hold and which no two requests of a session share; without a token it travels in clear, as everything
 * else does then, and someone reading the traffic could learn it (and forge chunks of that one copy).
 * <p>
 * With encryption asked for, the chunks' payloads are encrypted too, under a cipher key derived from the copy's
 * key: one publication per key, so no ChaCha20 nonce repeats.
 * <p>
 * Thread safety: stateless.
 */
public final class PeerKeys
{
    /** Bytes of a copy's key. */
    public static final int KEY_LENGTH = 16;

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] CIPHER_KEY_LABEL = "bitfusion peer copy cipher key".getBytes(StandardCharsets.US_ASCII);

    private PeerKeys()
    {
    }

    /**
     * @return a fresh random key for one copy.
     */
    public static byte[] newKey()
    {
        final byte[] key = new byte[KEY_LENGTH];
        RANDOM.nextBytes(key);
        return key;
    }

    /**
     * Mask a copy's key for the request that carries it, or unmask it as received: the mask is its own inverse.
     *
     * @param requestKey    the session's request authenticator, or null in a session without a token (the key
     *                      then travels as it is).
     * @param correlationId the request's correlation id, used once per session.
     * @param key           the {@link #KEY_LENGTH} bytes to mask or unmask, in place.
     */
    public static void mask(final FragmentAuthenticator requestKey, final long correlationId, final byte[] key)
    {
        if (requestKey == null)
        {
            return;
        }
        for (int word = 0; word < 2; word++)
        {
            final long stream = requestKey.keyStreamWord(correlationId, word);
            for (int i = 0; i < 8; i++)
            {
                key[word * 8 + i] ^= (byte)(stream >>> (8 * i));
            }
        }
    }

    /**
     * @param key     the copy's key.
     * @param encrypt whether the chunks' payloads are encrypted too.
     * @return what tags (and encrypts) the chunks of that copy, on both servers.
     */
    public static FragmentAuthenticator chunkAuthenticator(final byte[] key, final boolean encrypt)
    {
        if (!encrypt)
        {
            return FragmentAuthenticator.of(key);
        }
        try
        {
            // A separate key for the cipher, so the tag key never serves as one.
            final MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            sha256.update(CIPHER_KEY_LABEL);
            sha256.update(key);
            return FragmentAuthenticator.of(key, sha256.digest());
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", ex);
        }
    }
}
