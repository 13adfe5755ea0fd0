package dev.bitfusion.kubernetes.manifests;

import dev.bitfusion.transport.Endpoint;
import dev.bitfusion.transport.Protocol;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every manifest under {@code deploy/} and {@code examples/k8s/} is read by fabric8's model for its kind, and
 * nothing in it lands in a model's additional properties: a misspelt or misplaced field, which the API server
 * would reject or silently drop, fails here. Kustomizations are not API objects: they are built with
 * {@code kubectl kustomize} and what they produce is checked the same way.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeployManifestsTest
{
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final String KUSTOMIZATION = "kustomization.yaml";
    private static final String MODEL_PACKAGE = "io.fabric8.kubernetes.api.model";

    private final KubernetesSerialization serialization = new KubernetesSerialization();

    @Test
    void shouldReadEveryManifestWithNoUnknownField() throws IOException
    {
        final List<Path> manifests;
        try (Stream<Path> files = Stream.concat(Files.walk(ROOT.resolve("deploy")), Files.walk(ROOT.resolve("examples/k8s"))))
        {
            manifests = files.filter(file -> file.toString().endsWith(".yaml") || file.toString().endsWith(".yml"))
                .filter(file -> !file.getFileName().toString().equals(KUSTOMIZATION))
                .sorted()
                .collect(Collectors.toList());
        }
        assertTrue(manifests.size() >= 10, "manifests found: " + manifests);
        final List<String> problems = new ArrayList<>();
        int objects = 0;
        for (final Path manifest : manifests)
        {
            try (InputStream in = Files.newInputStream(manifest))
            {
                objects += check(ROOT.relativize(manifest).toString(), in, problems).size();
            }
        }
        assertEquals(List.of(), problems);
        System.out.println("manifests: " + manifests.size() + " files, " + objects + " objects, no unknown field");
    }

    @Test
    void shouldBuildEveryKustomizationIntoKnownObjects() throws Exception
    {
        Assumptions.assumeTrue(onPath("kubectl"), "kubectl is not installed (apt-get install kubernetes-client): " +
            "the kustomizations are not built");
        final List<Path> kustomizations;
        try (Stream<Path> files = Files.walk(ROOT.resolve("deploy")))
        {
            kustomizations = files.filter(file -> file.getFileName().toString().equals(KUSTOMIZATION))
                .map(Path::getParent).sorted().collect(Collectors.toList());
        }
        assertEquals(3, kustomizations.size(), kustomizations.toString());
        final List<String> problems = new ArrayList<>();
        for (final Path directory : kustomizations)
        {
            final Process kustomize = new ProcessBuilder("kubectl", "kustomize", directory.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            final byte[] built = kustomize.getInputStream().readAllBytes();
            assertTrue(kustomize.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize " + directory);
            assertEquals(0, kustomize.exitValue(), "kubectl kustomize " + directory);
            final List<?> objects = check("kustomize " + ROOT.relativize(directory), new ByteArrayInputStream(built),
                problems);
            assertFalse(objects.isEmpty(), directory.toString());
            checkClientImage(objects);
            final String text = new String(built, StandardCharsets.UTF_8);
            assertFalse(text.contains("image: bitfusion/bitfusion\n"), "an untagged bitfusion image in " + directory);
        }
        assertEquals(List.of(), problems);
    }

    /**
     * A server takes its port for requests and the next for replies, and clients must reach both: the DaemonSet
     * on the node's network declares both, so that a reader of it (or a policy built from it) opens both.
     */
    @Test
    void shouldDeclareTheServersRequestAndReplyPorts() throws IOException
    {
        final DaemonSet servers;
        try (InputStream in = Files.newInputStream(ROOT.resolve("deploy/k8s/gpu-servers/server-daemonset.yaml")))
        {
            servers = serialization.unmarshal(in, DaemonSet.class);
        }
        assertTrue(servers.getSpec().getTemplate().getSpec().getHostNetwork(), "servers on the node's network");
        final Container server = servers.getSpec().getTemplate().getSpec().getContainers().get(0);
        final List<String> args = server.getArgs();
        final int port = Endpoint.parse(args.get(args.indexOf("--listen") + 1)).port();
        final List<Integer> udpPorts = server.getPorts().stream()
            .filter(declared -> "UDP".equals(declared.getProtocol()))
            .map(ContainerPort::getContainerPort)
            .collect(Collectors.toList());
        assertEquals(List.of(port, Protocol.responsePort(port)), udpPorts);
    }

    /** The webhook's init containers must copy the client from the image the webhook runs. */
    private static void checkClientImage(final List<?> objects)
    {
        for (final Object object : objects)
        {
            if (object instanceof Deployment && ((Deployment)object).getMetadata().getName().equals("bitfusion-webhook"))
            {
                final String image = ((Deployment)object).getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
                final String clientImage = objects.stream()
                    .filter(candidate -> candidate instanceof ConfigMap &&
                        ((ConfigMap)candidate).getMetadata().getName().startsWith("bitfusion-webhook"))
                    .map(candidate -> ((ConfigMap)candidate).getData().get("client-image"))
                    .findFirst().orElseThrow(() -> new AssertionError("no bitfusion-webhook ConfigMap"));
                assertEquals(image, clientImage, "the kustomization's client-image and images entry disagree");
            }
        }
    }

    private List<?> check(final String source, final InputStream yaml, final List<String> problems)
    {
        final Object parsed = serialization.unmarshal(yaml);
        final List<?> objects;
        if (parsed instanceof KubernetesList)
        {
            objects = ((KubernetesList)parsed).getItems();
        }
        else if (parsed instanceof List)
        {
            objects = (List<?>)parsed;
        }
        else
        {
            objects = List.of(parsed);
        }
        for (final Object object : objects)
        {
            final String name = source + ": " + ((HasMetadata)object).getKind() + "/" +
                ((HasMetadata)object).getMetadata().getName();
            if (object instanceof GenericKubernetesResource)
            {
                problems.add(name + ": a kind fabric8's model does not know");
                continue;
            }
            collectUnknown(object, name, problems);
        }
        return objects;
    }

    /** Walks a model object's getters; whatever a model could not place sits in its additional properties. */
    private static void collectUnknown(final Object value, final String path, final List<String> problems)
    {
        if (value instanceof Map)
        {
            ((Map<?, ?>)value).forEach((key, item) -> collectUnknown(item, path + "." + key, problems));
            return;
        }
        if (value instanceof Collection)
        {
            int index = 0;
            for (final Object item : (Collection<?>)value)
            {
                collectUnknown(item, path + "[" + index++ + "]", problems);
            }
            return;
        }
        if (null == value || !value.getClass().getName().startsWith(MODEL_PACKAGE))
        {
            return;
        }
        for (final Method getter : value.getClass().getMethods())
        {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers()) ||
                !getter.getName().startsWith("get") || getter.getName().equals("getClass"))
            {
                continue;
            }
            final Object property;
            try
            {
                property = getter.invoke(value);
            }
            catch (final IllegalAccessException | InvocationTargetException ex)
            {
                continue;
            }
            if (getter.getName().equals("getAdditionalProperties"))
            {
                if (null != property && !((Map<?, ?>)property).isEmpty())
                {
                    problems.add(path + ": unknown " + ((Map<?, ?>)property).keySet());
                }
                continue;
            }
            collectUnknown(property, path + "." + getter.getName().substring(3), problems);
        }
    }

    private static boolean onPath(final String command)
    {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
            .anyMatch(dir -> Files.isExecutable(Path.of(dir, command)));
    }
}
