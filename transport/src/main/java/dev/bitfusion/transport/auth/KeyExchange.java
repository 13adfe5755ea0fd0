package dev.bitfusion.transport.auth;

import javax.crypto.KeyAgreement;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;

/**
 * One side of an X25519 key exchange, made fresh for each session: each side sends its public key, and both compute
 * the same secret, which no one who only saw the two public keys can. {@link Credentials#deriveKey} then binds it
 * to the token, so only a side that also holds the token ends up with the session's keys.
 * <p>
 * Thread safety: not thread safe; one per session open.
 */
public final class KeyExchange
{
    private static final String ALGORITHM = "X25519";
    /** The X.509 encoding of an X25519 public key: a 12-byte prefix and the 32-byte key. */
    public static final int MAX_PUBLIC_KEY_LENGTH = 64;

    private final KeyPair keyPair;

    private KeyExchange(final KeyPair keyPair)
    {
        this.keyPair = keyPair;
    }

    /**
     * @return a side with a fresh key pair.
     */
    public static KeyExchange generate()
    {
        try
        {
            return new KeyExchange(KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair());
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalStateException("this JVM lacks " + ALGORITHM, ex);
        }
    }

    /**
     * @return this side's public key, X.509 encoded, to send.
     */
    public byte[] publicKey()
    {
        return keyPair.getPublic().getEncoded();
    }

    /**
     * @param peerPublicKey the other side's public key as it sent it.
     * @return the shared secret.
     * @throws IllegalArgumentException when the peer's key is not an X25519 public key.
     */
    public byte[] sharedSecret(final byte[] peerPublicKey)
    {
        if (peerPublicKey.length == 0 || peerPublicKey.length > MAX_PUBLIC_KEY_LENGTH)
        {
            throw new IllegalArgumentException("not an X25519 public key: " + peerPublicKey.length + " bytes");
        }
        try
        {
            final PublicKey peer = KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(peerPublicKey));
            final KeyAgreement agreement = KeyAgreement.getInstance(ALGORITHM);
            agreement.init(keyPair.getPrivate());
            agreement.doPhase(peer, true);
            return agreement.generateSecret();
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IllegalArgumentException("not a usable X25519 public key: " + ex.getMessage(), ex);
        }
    }
}
