package dev.bitfusion.cli;

import dev.bitfusion.health.BitfusionVersion;
import dev.bitfusion.kubernetes.admission.AdmissionReviewHandler;
import dev.bitfusion.kubernetes.admission.InjectionSettings;
import dev.bitfusion.kubernetes.admission.PodMutator;
import dev.bitfusion.kubernetes.admission.WebhookServer;
import dev.bitfusion.kubernetes.tls.PemKeyMaterial;
import dev.bitfusion.kubernetes.tls.WebhookCertificates;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.json.JsonMapper;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code bitfusion webhook}: the Kubernetes mutating admission webhook that gives opted-in pods remote GPU
 * slices (see {@link PodMutator} for what it does to a pod). It serves HTTPS with the certificate of a mounted
 * TLS Secret ({@code --tls-dir}), or with one it makes at start, printing the CA bundle for the
 * MutatingWebhookConfiguration. {@code bitfusion webhook certificate} writes such a certificate to files, for
 * the Secret.
 * <p>
 * Thread safety: a command object runs once, on the main thread; the server's threads share only immutable state.
 */
@Command(name = "webhook", mixinStandardHelpOptions = true,
    description = "Serve the Kubernetes admission webhook that gives pods remote GPU slices.",
    subcommands = WebhookCommand.CertificateCommand.class)
final class WebhookCommand implements Callable<Integer>
{
    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Where to serve HTTPS (default 0.0.0.0:8443).")
    String listen = "0.0.0.0:8443";

    @Option(names = "--tls-dir", paramLabel = "DIR",
        description = "tls.crt and tls.key (PKCS#8) of a mounted TLS Secret; without it a certificate is made at start.")
    Path tlsDir;

    @Option(names = "--service", paramLabel = "NAME",
        description = "The webhook's Service, named in a certificate made at start (default bitfusion-webhook).")
    String service = "bitfusion-webhook";

    @Option(names = "--namespace", paramLabel = "NAMESPACE",
        description = "The Service's namespace (default: POD_NAMESPACE, else bitfusion-system).")
    String namespace = System.getenv().getOrDefault("POD_NAMESPACE", "bitfusion-system");

    // Not required by picocli: that would demand it of `webhook certificate` too; conclude() says it is missing.
    @Option(names = "--client-image", paramLabel = "IMAGE",
        description = "The bitfusion image the init container copies the client from (this image).")
    String clientImage;

    @Option(names = "--image-pull-policy", paramLabel = "POLICY", description = "The init container's (default IfNotPresent).")
    String imagePullPolicy = "IfNotPresent";

    @Option(names = "--servers-config-map", paramLabel = "NAME",
        description = "The ConfigMap in each pod's namespace with servers.conf (default bitfusion-servers).")
    String serversConfigMap = InjectionSettings.SERVERS_CONFIG_MAP_DEFAULT;

    @Option(names = "--token-secret", paramLabel = "NAME",
        description = "The Secret in each pod's namespace with the servers' token (default bitfusion-token).")
    String tokenSecret = InjectionSettings.TOKEN_SECRET_DEFAULT;

    @Option(names = "--gpu-memory-mib", paramLabel = "MIB",
        description = "Memory of one of the pool's GPUs, so a slice in MiB counts its share in bitfusion.io/gpu; " +
            "without it such a slice counts as a whole GPU.")
    long gpuMemoryMib;

    @Option(names = "--threads", description = "Reviews served at once (default 8).")
    int threads = 8;

    public Integer call() throws IOException, InterruptedException
    {
        if (null == clientImage || clientImage.isBlank())
        {
            System.err.println("bitfusion webhook: give --client-image IMAGE, the bitfusion image this webhook runs from");
            return 2;
        }
        final InjectionSettings settings = new InjectionSettings()
            .clientImage(clientImage)
            .imagePullPolicy(imagePullPolicy)
            .clientVersion(BitfusionVersion.current())
            .serversConfigMap(serversConfigMap)
            .tokenSecret(tokenSecret)
            .gpuMemoryMib(gpuMemoryMib)
            .conclude();
        final SSLContext tls = null != tlsDir ? mounted(tlsDir) : selfMade();
        final int colon = listen.lastIndexOf(':');
        final InetSocketAddress address = new InetSocketAddress(listen.substring(0, colon),
            Integer.parseInt(listen.substring(colon + 1)));
        try (WebhookServer server = WebhookServer.start(address, tls,
            new AdmissionReviewHandler(JsonMapper.builder().build(), new PodMutator(settings)), threads))
        {
            System.err.println("bitfusion webhook: serving https://" + listen + WebhookServer.MUTATE_PATH +
                " (client " + settings.clientVersion() + " from " + clientImage + ")");
            final CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "bitfusion-webhook-stop"));
            stopped.await();
        }
        return 0;
    }

    private static SSLContext mounted(final Path dir)
    {
        return PemKeyMaterial.serverContext(dir.resolve(WebhookCertificates.CERTIFICATE_FILE),
            dir.resolve(WebhookCertificates.KEY_FILE));
    }

    /** A certificate for this process alone: its CA changes at every start, so the bundle is printed. */
    private SSLContext selfMade() throws IOException
    {
        final Path dir = Files.createTempDirectory("bitfusion-webhook-tls");
        WebhookCertificates.write(WebhookCertificates.serviceNames(service, namespace), dir);
        final byte[] ca = Files.readAllBytes(dir.resolve(WebhookCertificates.CA_FILE));
        System.err.println("bitfusion webhook: made a certificate for " + service + "." + namespace + ".svc; " +
            "put this CA bundle in the MutatingWebhookConfiguration's clientConfig.caBundle (it changes at every " +
            "start: mount a TLS Secret with --tls-dir to keep one):");
        System.out.println("caBundle: " + Base64.getEncoder().encodeToString(ca));
        System.out.flush();
        final SSLContext context = mounted(dir);
        for (final String file : List.of(WebhookCertificates.KEY_FILE, WebhookCertificates.CERTIFICATE_FILE,
            WebhookCertificates.CA_FILE))
        {
            Files.delete(dir.resolve(file));
        }
        Files.delete(dir);
        return context;
    }

    /**
     * {@code bitfusion webhook certificate}: a CA and a server certificate for the webhook's Service, written as
     * a TLS Secret's files, with the CA bundle printed for the MutatingWebhookConfiguration.
     * <p>
     * Thread safety: a command object runs once, on the main thread.
     */
    @Command(name = "certificate", mixinStandardHelpOptions = true,
        description = "Write ca.crt, tls.crt and tls.key for the webhook's Service and print the CA bundle.")
    static final class CertificateCommand implements Callable<Integer>
    {
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the files.")
        Path out;

        @Option(names = "--service", paramLabel = "NAME", description = "The webhook's Service (default bitfusion-webhook).")
        String service = "bitfusion-webhook";

        @Option(names = "--namespace", paramLabel = "NAMESPACE", description = "Its namespace (default bitfusion-system).")
        String namespace = "bitfusion-system";

        @Option(names = "--dns-name", paramLabel = "NAME", description = "Another name for the certificate; repeatable.")
        List<String> extraNames = new ArrayList<>();

        public Integer call() throws IOException
        {
            final List<String> names = new ArrayList<>(WebhookCertificates.serviceNames(service, namespace));
            names.addAll(extraNames);
            WebhookCertificates.write(names, out);
            System.err.println("bitfusion webhook certificate: wrote " + out.resolve(WebhookCertificates.CA_FILE) + ", " +
                WebhookCertificates.CERTIFICATE_FILE + " and " + WebhookCertificates.KEY_FILE + " for " +
                String.join(", ", names));
            System.out.println("caBundle: " + Base64.getEncoder().encodeToString(
                Files.readString(out.resolve(WebhookCertificates.CA_FILE), StandardCharsets.US_ASCII)
                    .getBytes(StandardCharsets.US_ASCII)));
            return 0;
        }
    }
}
