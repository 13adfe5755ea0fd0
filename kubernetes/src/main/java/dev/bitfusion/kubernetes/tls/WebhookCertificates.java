package dev.bitfusion.kubernetes.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Makes a certificate authority and a server certificate it signed, for the webhook's HTTPS when no
 * certificate is mounted: {@code ca.crt} (the bundle the MutatingWebhookConfiguration's {@code caBundle}
 * carries), {@code tls.crt} (server certificate and CA) and {@code tls.key} (PKCS#8), the names a
 * Kubernetes TLS Secret uses. Keys are EC P-256.
 * <p>
 * The JDK has no public API that signs certificates, so this drives its {@code keytool}, which every Java
 * runtime carries (jlinked ones too: it belongs to {@code java.base}), rather than bringing in a crypto library.
 * <p>
 * Thread safety: stateless; concurrent calls must use different directories.
 */
public final class WebhookCertificates
{
    /** The CA's certificate, PEM. */
    public static final String CA_FILE = "ca.crt";
    /** The server's certificate followed by the CA's, PEM. */
    public static final String CERTIFICATE_FILE = "tls.crt";
    /** The server's private key, PEM, PKCS#8. */
    public static final String KEY_FILE = "tls.key";
    private static final int CA_VALIDITY_DAYS = 3650;
    private static final int SERVER_VALIDITY_DAYS = 825;
    private static final long KEYTOOL_TIMEOUT_S = 60;

    private WebhookCertificates()
    {
    }

    /**
     * @param serviceName the webhook's Service, e.g. {@code bitfusion-webhook}.
     * @param namespace   its namespace.
     * @return the names the API server may use to reach it: NAME, NAME.NS, NAME.NS.svc,
     * NAME.NS.svc.cluster.local, and localhost for tests and port-forwarding.
     */
    public static List<String> serviceNames(final String serviceName, final String namespace)
    {
        return List.of(serviceName, serviceName + "." + namespace, serviceName + "." + namespace + ".svc",
            serviceName + "." + namespace + ".svc.cluster.local", "localhost");
    }

    /**
     * Writes {@link #CA_FILE}, {@link #CERTIFICATE_FILE} and {@link #KEY_FILE} into a directory.
     *
     * @param dnsNames the server certificate's DNS names, the first also its common name.
     * @param directory where to write them; created when missing.
     * @throws IOException when keytool fails or a file cannot be written.
     */
    public static void write(final List<String> dnsNames, final Path directory) throws IOException
    {
        if (dnsNames.isEmpty())
        {
            throw new IllegalArgumentException("a certificate needs at least one DNS name");
        }
        Files.createDirectories(directory);
        final Path work = Files.createTempDirectory(directory, ".keytool");
        try
        {
            final String password = password();
            final Path caStore = work.resolve("ca.p12");
            final Path serverStore = work.resolve("server.p12");
            final Path request = work.resolve("server.csr");
            final Path signed = work.resolve("server.crt");
            final Path ca = directory.resolve(CA_FILE);
            keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=bitfusion webhook CA", "-ext", "bc:c", "-ext", "ku:c=keyCertSign,cRLSign",
                "-validity", Integer.toString(CA_VALIDITY_DAYS), "-keystore", caStore.toString(),
                "-storetype", "PKCS12", "-storepass", password);
            keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=" + dnsNames.get(0), "-validity", Integer.toString(SERVER_VALIDITY_DAYS),
                "-keystore", serverStore.toString(), "-storetype", "PKCS12", "-storepass", password);
            keytool("-certreq", "-alias", "server", "-keystore", serverStore.toString(), "-storepass", password,
                "-file", request.toString());
            keytool("-gencert", "-alias", "ca", "-keystore", caStore.toString(), "-storepass", password,
                "-infile", request.toString(), "-outfile", signed.toString(), "-rfc",
                "-validity", Integer.toString(SERVER_VALIDITY_DAYS),
                "-ext", "san=" + dnsNames.stream().map(name -> "dns:" + name).collect(Collectors.joining(",")) +
                    ",ip:127.0.0.1",
                "-ext", "ku:c=digitalSignature,keyAgreement", "-ext", "eku=serverAuth");
            keytool("-exportcert", "-alias", "ca", "-keystore", caStore.toString(), "-storepass", password,
                "-rfc", "-file", ca.toString());
            Files.writeString(directory.resolve(CERTIFICATE_FILE),
                Files.readString(signed, StandardCharsets.US_ASCII) + Files.readString(ca, StandardCharsets.US_ASCII),
                StandardCharsets.US_ASCII);
            final Path key = directory.resolve(KEY_FILE);
            Files.writeString(key, PemKeyMaterial.pem(privateKey(serverStore, password)), StandardCharsets.US_ASCII);
            key.toFile().setReadable(false, false);
            key.toFile().setReadable(true, true);
        }
        finally
        {
            try (var files = Files.list(work))
            {
                for (final Path file : files.collect(Collectors.toList()))
                {
                    Files.deleteIfExists(file);
                }
            }
            Files.deleteIfExists(work);
        }
    }

    private static PrivateKey privateKey(final Path store, final String password) throws IOException
    {
        try (InputStream in = Files.newInputStream(store))
        {
            final KeyStore keyStore = KeyStore.getInstance("PKCS12");
            keyStore.load(in, password.toCharArray());
            return (PrivateKey)keyStore.getKey("server", password.toCharArray());
        }
        catch (final GeneralSecurityException ex)
        {
            throw new IOException("cannot read the server key back from " + store + ": " + ex.getMessage(), ex);
        }
    }

    /** The stores live only for this call; the password only has to satisfy keytool. */
    private static String password()
    {
        final byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private static void keytool(final String... arguments) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(arguments));
        command.add("-noprompt");
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        final String output;
        try (InputStream in = process.getInputStream())
        {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        try
        {
            if (!process.waitFor(KEYTOOL_TIMEOUT_S, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                throw new IOException("keytool " + arguments[0] + " did not finish within " + KEYTOOL_TIMEOUT_S + " s");
            }
        }
        catch (final InterruptedException ex)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for keytool", ex);
        }
        if (process.exitValue() != 0)
        {
            throw new IOException("keytool " + arguments[0] + " failed (" + process.exitValue() + "): " + output.strip());
        }
    }
}
