package dev.bitfusion.kubernetes.tls;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;

/**
 * TLS key material from PEM files, as a Kubernetes TLS Secret holds them ({@code tls.crt}: the certificate
 * and its chain; {@code tls.key}: the private key, PKCS#8), turned into the JDK's {@link SSLContext}s.
 * <p>
 * Thread safety: stateless.
 */
public final class PemKeyMaterial
{
    private static final String KEY_BEGIN = "-----BEGIN PRIVATE KEY-----";
    private static final String KEY_END = "-----END PRIVATE KEY-----";
    private static final char[] IN_MEMORY_PASSWORD = "bitfusion".toCharArray();

    private PemKeyMaterial()
    {
    }

    /**
     * @param certificateFile PEM certificates, the server's first.
     * @param keyFile         the PEM private key, PKCS#8 ({@code BEGIN PRIVATE KEY}).
     * @return a server context presenting that certificate.
     * @throws IllegalArgumentException saying which file is wrong and how.
     */
    public static SSLContext serverContext(final Path certificateFile, final Path keyFile)
    {
        final List<Certificate> chain = certificates(certificateFile);
        final PrivateKey key = privateKey(keyFile);
        try
        {
            final KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("server", key, IN_MEMORY_PASSWORD, chain.toArray(new Certificate[0]));
            final KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, IN_MEMORY_PASSWORD);
            final SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys.getKeyManagers(), null, null);
            return context;
        }
        catch (final GeneralSecurityException | IOException ex)
        {
            throw new IllegalArgumentException("cannot use " + certificateFile + " with " + keyFile + ": " +
                ex.getMessage(), ex);
        }
    }

    /**
     * @param caFile PEM certificates to trust, and only those.
     * @return a client context that trusts them.
     * @throws IllegalArgumentException when the file holds no certificate.
     */
    public static SSLContext clientContext(final Path caFile)
    {
        try
        {
            final KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            int index = 0;
            for (final Certificate certificate : certificates(caFile))
            {
                store.setCertificateEntry("ca-" + index++, certificate);
            }
            final TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            final SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        }
        catch (final GeneralSecurityException | IOException ex)
        {
            throw new IllegalArgumentException("cannot trust " + caFile + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * @param file PEM certificates.
     * @return them, in order.
     * @throws IllegalArgumentException when it cannot be read or holds none.
     */
    public static List<Certificate> certificates(final Path file)
    {
        try
        {
            final List<Certificate> certificates = List.copyOf(CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file))));
            if (certificates.isEmpty())
            {
                throw new IllegalArgumentException(file + " holds no certificate");
            }
            return certificates;
        }
        catch (final GeneralSecurityException | IOException ex)
        {
            throw new IllegalArgumentException("cannot read certificates from " + file + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * @param key a private key.
     * @return it as PEM, PKCS#8.
     */
    public static String pem(final PrivateKey key)
    {
        return KEY_BEGIN + "\n" + Base64.getMimeEncoder(64, new byte[]{'\n'}).encodeToString(key.getEncoded()) + "\n" +
            KEY_END + "\n";
    }

    private static PrivateKey privateKey(final Path file)
    {
        final String text;
        try
        {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("cannot read the private key " + file + ": " + ex.getMessage(), ex);
        }
        final int begin = text.indexOf(KEY_BEGIN);
        final int end = text.indexOf(KEY_END);
        if (begin < 0 || end < begin)
        {
            // cert-manager writes PKCS#1 RSA keys unless told otherwise; say how to get the form we read.
            throw new IllegalArgumentException(file + " is not a PKCS#8 private key (BEGIN PRIVATE KEY): convert it " +
                "with openssl pkcs8 -topk8 -nocrypt, or set privateKey.encoding: PKCS8 on a cert-manager Certificate");
        }
        final byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + KEY_BEGIN.length(), end));
        for (final String algorithm : List.of("EC", "RSA", "Ed25519"))
        {
            try
            {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            }
            catch (final GeneralSecurityException ignore)
            {
                // Not this algorithm: PKCS#8 names it inside, but the JDK asks us to pick the factory first.
            }
        }
        throw new IllegalArgumentException(file + " holds a private key of none of EC, RSA, Ed25519");
    }
}
