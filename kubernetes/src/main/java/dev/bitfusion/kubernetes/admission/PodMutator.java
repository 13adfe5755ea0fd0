package dev.bitfusion.kubernetes.admission;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Decides what happens to one pod and makes the change: the heart of {@code bitfusion webhook}.
 * <p>
 * A pod annotated {@code auto-management/bitfusion: all} or {@code injection} gets an init container that
 * copies the client out of the bitfusion image into an emptyDir, mounted read-only in every container that
 * asks for {@code bitfusion.io/gpu-*} resources, with the servers file from the ConfigMap and the token from
 * the Secret of the pod's own namespace, and a memory-backed {@code /dev/shm} big enough for the client's transport. Those resources become {@code bitfusion.io/gpu} (percent of a GPU),
 * which quotas count and nodes advertise. Under {@code all} each such container's command is prefixed with
 * {@code bitfusion run -n N (-p F | -m MB) [--server_list ...] --}. The pod is marked
 * {@code auto-management/status: injected}, and a marked pod is let through untouched, so a second pass
 * changes nothing.
 * <p>
 * A pod that cannot be run as asked is denied with a message naming what to change, rather than let through
 * unchanged: a GPU container without {@code command} (the webhook cannot see an image's entrypoint), a
 * {@code bitfusion-client/version} other than the injected client's, a filter this client cannot honour.
 * <p>
 * Thread safety: immutable after construction; {@link #admit(Pod)} keeps no state between calls and may run
 * on any number of threads at once, each on its own pod.
 */
public final class PodMutator
{
    /** The init container that copies the client, and the emptyDir it copies into. */
    public static final String CLIENT_VOLUME = "bitfusion-client";
    /** The volume of the servers ConfigMap. */
    public static final String SERVERS_VOLUME = "bitfusion-servers";
    /**
     * Memory for {@code /dev/shm}: the client's transport (Aeron) keeps its buffers there, about 100 MiB a
     * session, and a container's own {@code /dev/shm} is 64 MiB.
     */
    public static final String SHM_VOLUME = "bitfusion-shm";
    /** The cap on {@link #SHM_VOLUME}; what is used counts against the pod's memory, like any tmpfs. */
    public static final String SHM_SIZE_LIMIT = "1Gi";
    private static final String SHM_PATH = "/dev/shm";
    private static final String FILTER_SERVER_ADDRESS = "server.addr";

    private final InjectionSettings settings;

    /**
     * @param settings concluded settings.
     */
    public PodMutator(final InjectionSettings settings)
    {
        this.settings = settings;
    }

    /**
     * Decides on a pod being created and, when it is to be changed, changes it in place.
     *
     * @param pod the pod of the request; the caller's own copy.
     * @return the decision.
     */
    public PodAdmission admit(final Pod pod)
    {
        final ObjectMeta metadata = null == pod.getMetadata() ? new ObjectMeta() : pod.getMetadata();
        final Map<String, String> annotations = null == metadata.getAnnotations() ?
            new LinkedHashMap<>() : new LinkedHashMap<>(metadata.getAnnotations());
        final PodSpec spec = pod.getSpec();
        try
        {
            final ManagementMode mode = ManagementMode.parse(annotations.get(PodContract.MANAGEMENT_ANNOTATION));
            if (mode == ManagementMode.NONE ||
                PodContract.STATUS_INJECTED.equals(annotations.get(PodContract.STATUS_ANNOTATION)) || null == spec)
            {
                return PodAdmission.unchanged();
            }
            checkVersion(annotations.get(PodContract.VERSION_ANNOTATION));
            final List<String> servers = serversOf(annotations.get(PodContract.FILTER_ANNOTATION));
            final Map<Container, GpuRequest> gpuContainers = gpuContainers(spec, mode);
            checkNames(spec, gpuContainers);

            annotations.put(PodContract.STATUS_ANNOTATION, PodContract.STATUS_INJECTED);
            metadata.setAnnotations(annotations);
            pod.setMetadata(metadata);
            addVolumes(spec);
            final List<Container> initContainers = new ArrayList<>();
            initContainers.add(copyClient());
            if (null != spec.getInitContainers())
            {
                initContainers.addAll(spec.getInitContainers());
            }
            spec.setInitContainers(initContainers);
            final List<String> summary = new ArrayList<>();
            long units = 0;
            for (final Map.Entry<Container, GpuRequest> entry : gpuContainers.entrySet())
            {
                final Container container = entry.getKey();
                final GpuRequest request = entry.getValue();
                mountClient(container);
                chargeQuota(container, request);
                units += request.quotaUnits(settings.gpuMemoryMib());
                if (mode == ManagementMode.ALL)
                {
                    container.setCommand(runCommand(request, servers, container.getCommand()));
                }
                summary.add(container.getName() + ": " + String.join(" ", request.runOptions()));
            }
            return PodAdmission.changed("bitfusion " + mode.name().toLowerCase(Locale.ROOT) + " (" +
                String.join("; ", summary) + "), " + PodContract.GPU_RESOURCE + " " + units, List.of());
        }
        catch (final IllegalArgumentException ex)
        {
            return PodAdmission.denied("bitfusion: " + ex.getMessage());
        }
    }

    private void checkVersion(final String wanted)
    {
        if (null == wanted || wanted.isBlank())
        {
            return;
        }
        final String version = settings.clientVersion();
        final String asked = wanted.strip();
        if (!version.equals(asked) && !version.startsWith(asked + ".") && !version.startsWith(asked + "-"))
        {
            throw new IllegalArgumentException("the pod asks for client version " + asked + " (" +
                PodContract.VERSION_ANNOTATION + ") but this webhook injects " + version +
                ": set the annotation to " + version + " or remove it");
        }
    }

    /** VMware's filter is a list of key=value terms, bracketed or not; this client can choose servers only. */
    private static List<String> serversOf(final String filter)
    {
        final List<String> servers = new ArrayList<>();
        if (null == filter || filter.isBlank())
        {
            return servers;
        }
        final String terms = filter.strip().replaceAll("^\\[|]$", "");
        for (final String term : terms.split("[,\\s]+"))
        {
            if (term.isEmpty())
            {
                continue;
            }
            final int equals = term.indexOf('=');
            final String key = equals < 0 ? term : term.substring(0, equals).strip();
            final String value = equals < 0 ? "" : term.substring(equals + 1).strip();
            if (!FILTER_SERVER_ADDRESS.equals(key) || value.isEmpty())
            {
                throw new IllegalArgumentException(PodContract.FILTER_ANNOTATION + " \"" + filter +
                    "\": this client filters servers only, by server.addr=HOST:PORT terms; \"" + term +
                    "\" is not one");
            }
            servers.add(value);
        }
        return servers;
    }

    private static Map<Container, GpuRequest> gpuContainers(final PodSpec spec, final ManagementMode mode)
    {
        final Map<Container, GpuRequest> found = new LinkedHashMap<>();
        for (final Container container : null == spec.getContainers() ? List.<Container>of() : spec.getContainers())
        {
            final GpuRequest request = GpuRequest.of(container);
            if (null == request)
            {
                continue;
            }
            if (mode == ManagementMode.ALL && (null == container.getCommand() || container.getCommand().isEmpty()))
            {
                throw new IllegalArgumentException("container " + container.getName() + " has no command: its " +
                    "command is what runs under bitfusion run, and an image's entrypoint cannot be seen at " +
                    "admission. Add command: [...] (the image's entrypoint, and args as they are) to the container, " +
                    "or annotate the pod " + PodContract.MANAGEMENT_ANNOTATION + ": injection and call " +
                    "bitfusion run in the command yourself");
            }
            found.put(container, request);
        }
        if (found.isEmpty())
        {
            throw new IllegalArgumentException("the pod is annotated " + PodContract.MANAGEMENT_ANNOTATION + ": " +
                mode.name().toLowerCase(Locale.ROOT) + " but no container asks for GPUs: add " +
                PodContract.GPU_AMOUNT_RESOURCE + " and " + PodContract.GPU_PERCENT_RESOURCE + " (1-100) or " +
                PodContract.GPU_MEMORY_RESOURCE + " (MiB) to the resources.limits of the container that uses them");
        }
        return found;
    }

    private void checkNames(final PodSpec spec, final Map<Container, GpuRequest> gpuContainers)
    {
        final Set<String> volumes = new LinkedHashSet<>();
        if (null != spec.getVolumes())
        {
            spec.getVolumes().forEach(volume -> volumes.add(volume.getName()));
        }
        for (final String name : List.of(CLIENT_VOLUME, SERVERS_VOLUME, SHM_VOLUME))
        {
            if (volumes.contains(name))
            {
                throw new IllegalArgumentException("the pod already has a volume named " + name +
                    ", which the webhook adds: rename it");
            }
        }
        if (null != spec.getInitContainers() &&
            spec.getInitContainers().stream().anyMatch(container -> CLIENT_VOLUME.equals(container.getName())))
        {
            throw new IllegalArgumentException("the pod already has an init container named " + CLIENT_VOLUME +
                ", which the webhook adds: rename it");
        }
        for (final Container container : gpuContainers.keySet())
        {
            if (null == container.getVolumeMounts())
            {
                continue;
            }
            for (final VolumeMount mount : container.getVolumeMounts())
            {
                if (settings.mountPath().equals(mount.getMountPath()) ||
                    InjectionSettings.SERVERS_DIR.equals(mount.getMountPath()))
                {
                    throw new IllegalArgumentException("container " + container.getName() + " mounts a volume at " +
                        mount.getMountPath() + ", where the webhook mounts the bitfusion client and its servers file: " +
                        "move it");
                }
            }
        }
    }

    private void addVolumes(final PodSpec spec)
    {
        final List<Volume> volumes = new ArrayList<>(null == spec.getVolumes() ? List.of() : spec.getVolumes());
        volumes.add(new VolumeBuilder().withName(CLIENT_VOLUME).withNewEmptyDir().endEmptyDir().build());
        volumes.add(new VolumeBuilder().withName(SHM_VOLUME)
            .withNewEmptyDir().withMedium("Memory").withSizeLimit(new Quantity(SHM_SIZE_LIMIT)).endEmptyDir().build());
        volumes.add(new VolumeBuilder().withName(SERVERS_VOLUME)
            .withNewConfigMap()
            .withName(settings.serversConfigMap())
            .addNewItem().withKey(InjectionSettings.SERVERS_KEY).withPath(InjectionSettings.SERVERS_KEY).endItem()
            .endConfigMap()
            .build());
        spec.setVolumes(volumes);
    }

    /** The client is copied, not mounted from the image, so any image with a C library can use it. */
    private Container copyClient()
    {
        return new ContainerBuilder()
            .withName(CLIENT_VOLUME)
            .withImage(settings.clientImage())
            .withImagePullPolicy(settings.imagePullPolicy())
            .withCommand("cp", "-a", settings.payloadDir() + "/.", settings.mountPath() + "/")
            .withVolumeMounts(new VolumeMountBuilder().withName(CLIENT_VOLUME).withMountPath(settings.mountPath()).build())
            // Namespaces with quotas on cpu and memory refuse containers that state neither.
            .withNewResources()
            .addToRequests("cpu", new Quantity("50m"))
            .addToRequests("memory", new Quantity("64Mi"))
            .addToLimits("cpu", new Quantity("500m"))
            .addToLimits("memory", new Quantity("128Mi"))
            .endResources()
            .withNewSecurityContext()
            .withRunAsNonRoot(true)
            .withAllowPrivilegeEscalation(false)
            .withReadOnlyRootFilesystem(true)
            .withNewCapabilities().addToDrop("ALL").endCapabilities()
            .endSecurityContext()
            .build();
    }

    private void mountClient(final Container container)
    {
        final List<VolumeMount> mounts = new ArrayList<>(
            null == container.getVolumeMounts() ? List.of() : container.getVolumeMounts());
        mounts.add(new VolumeMountBuilder().withName(CLIENT_VOLUME).withMountPath(settings.mountPath())
            .withReadOnly(true).build());
        mounts.add(new VolumeMountBuilder().withName(SERVERS_VOLUME).withMountPath(InjectionSettings.SERVERS_DIR)
            .withReadOnly(true).build());
        if (mounts.stream().noneMatch(mount -> SHM_PATH.equals(mount.getMountPath())))
        {
            mounts.add(new VolumeMountBuilder().withName(SHM_VOLUME).withMountPath(SHM_PATH).build());
        }
        container.setVolumeMounts(mounts);
        final List<EnvVar> env = new ArrayList<>(null == container.getEnv() ? List.of() : container.getEnv());
        if (env.stream().noneMatch(variable -> InjectionSettings.TOKEN_ENV_NAME.equals(variable.getName())))
        {
            // Optional: servers started without --token-file need no Secret, and one that needs it says so.
            env.add(new EnvVarBuilder().withName(InjectionSettings.TOKEN_ENV_NAME)
                .withNewValueFrom().withNewSecretKeyRef(InjectionSettings.TOKEN_KEY, settings.tokenSecret(), true)
                .endValueFrom().build());
        }
        container.setEnv(env);
    }

    private void chargeQuota(final Container container, final GpuRequest request)
    {
        final ResourceRequirements resources = container.getResources();
        final long units = request.quotaUnits(settings.gpuMemoryMib());
        resources.setLimits(recharged(resources.getLimits(), units));
        resources.setRequests(recharged(resources.getRequests(), units));
    }

    private static Map<String, Quantity> recharged(final Map<String, Quantity> quantities, final long units)
    {
        final Map<String, Quantity> result = new LinkedHashMap<>(null == quantities ? Map.of() : quantities);
        result.remove(PodContract.GPU_AMOUNT_RESOURCE);
        result.remove(PodContract.GPU_PERCENT_RESOURCE);
        result.remove(PodContract.GPU_MEMORY_RESOURCE);
        result.put(PodContract.GPU_RESOURCE, new Quantity(Long.toString(units)));
        return result;
    }

    private List<String> runCommand(final GpuRequest request, final List<String> servers, final List<String> command)
    {
        final List<String> run = new ArrayList<>();
        run.add(settings.mountPath() + "/bin/bitfusion");
        run.add("run");
        run.addAll(request.runOptions());
        if (!servers.isEmpty())
        {
            run.add("--server_list");
            run.add(String.join(",", servers));
        }
        run.add("--");
        run.addAll(command);
        return run;
    }
}
