package dev.bitfusion.kubernetes.admission;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * One container's ask for remote GPUs, read from its {@code bitfusion.io/gpu-amount},
 * {@code bitfusion.io/gpu-percent} and {@code bitfusion.io/gpu-memory} resources: how many GPUs, and a
 * slice of each as a percentage of its memory or as MiB.
 * <p>
 * Thread safety: immutable.
 */
public final class GpuRequest
{
    private final int gpuCount;
    private final int percent;
    private final long memoryMib;

    private GpuRequest(final int gpuCount, final int percent, final long memoryMib)
    {
        this.gpuCount = gpuCount;
        this.percent = percent;
        this.memoryMib = memoryMib;
    }

    /**
     * @param container a container of the pod.
     * @return its request, or null when it names none of the three resources.
     * @throws IllegalArgumentException saying what is wrong and what to write instead.
     */
    public static GpuRequest of(final Container container)
    {
        final ResourceRequirements resources = container.getResources();
        if (null == resources)
        {
            return null;
        }
        final String name = container.getName();
        final BigDecimal amount = read(resources, PodContract.GPU_AMOUNT_RESOURCE, name);
        final BigDecimal percent = read(resources, PodContract.GPU_PERCENT_RESOURCE, name);
        final BigDecimal memory = read(resources, PodContract.GPU_MEMORY_RESOURCE, name);
        if (null == amount && null == percent && null == memory)
        {
            return null;
        }
        if (null != percent && null != memory)
        {
            throw new IllegalArgumentException("container " + name + " sets both " + PodContract.GPU_PERCENT_RESOURCE +
                " and " + PodContract.GPU_MEMORY_RESOURCE + ": keep one, the slice is a percentage or a size");
        }
        final int count = null == amount ? 1 : whole(amount, PodContract.GPU_AMOUNT_RESOURCE, name, 1, 64);
        if (null != memory)
        {
            return new GpuRequest(count, 0, whole(memory, PodContract.GPU_MEMORY_RESOURCE, name, 1, Integer.MAX_VALUE));
        }
        final int share = null == percent ? PodContract.UNITS_PER_GPU :
            whole(percent, PodContract.GPU_PERCENT_RESOURCE, name, 1, PodContract.UNITS_PER_GPU);
        return new GpuRequest(count, share, 0);
    }

    /**
     * @return how many GPUs.
     */
    public int gpuCount()
    {
        return gpuCount;
    }

    /**
     * @return the slice as a percentage of each GPU's memory, or 0 when it is given in MiB.
     */
    public int percent()
    {
        return percent;
    }

    /**
     * @return the slice in MiB of each GPU's memory, or 0 when it is given as a percentage.
     */
    public long memoryMib()
    {
        return memoryMib;
    }

    /**
     * What the request counts for in {@code bitfusion.io/gpu}: percent of a GPU, summed over its GPUs.
     *
     * @param gpuMemoryMib the memory of one of the pool's GPUs, to turn a size into a share; 0 when not
     *                     known, and then a size counts as a whole GPU, so that quotas are never undercounted.
     * @return the units.
     */
    public long quotaUnits(final long gpuMemoryMib)
    {
        final long perGpu;
        if (memoryMib == 0)
        {
            perGpu = percent;
        }
        else if (gpuMemoryMib <= 0)
        {
            perGpu = PodContract.UNITS_PER_GPU;
        }
        else
        {
            perGpu = Math.min(PodContract.UNITS_PER_GPU,
                (memoryMib * PodContract.UNITS_PER_GPU + gpuMemoryMib - 1) / gpuMemoryMib);
        }
        return perGpu * gpuCount;
    }

    /**
     * @return the options of {@code bitfusion run} that ask for this slice: {@code -n N -p F} or {@code -n N -m MB}.
     */
    public List<String> runOptions()
    {
        if (memoryMib != 0)
        {
            return List.of("-n", Integer.toString(gpuCount), "-m", Long.toString(memoryMib));
        }
        return List.of("-n", Integer.toString(gpuCount), "-p",
            BigDecimal.valueOf(percent).movePointLeft(2).stripTrailingZeros().toPlainString());
    }

    private static BigDecimal read(final ResourceRequirements resources, final String resource, final String container)
    {
        final BigDecimal limit = amount(resources.getLimits(), resource, container);
        final BigDecimal request = amount(resources.getRequests(), resource, container);
        if (null != limit && null != request && limit.compareTo(request) != 0)
        {
            throw new IllegalArgumentException("container " + container + " asks for " + resource + " " +
                request.toPlainString() + " in requests but " + limit.toPlainString() +
                " in limits: set it once, in limits");
        }
        return null != limit ? limit : request;
    }

    private static BigDecimal amount(final Map<String, Quantity> quantities, final String resource, final String container)
    {
        final Quantity quantity = null == quantities ? null : quantities.get(resource);
        if (null == quantity)
        {
            return null;
        }
        try
        {
            return quantity.getNumericalAmount();
        }
        catch (final RuntimeException ex)
        {
            throw new IllegalArgumentException("container " + container + ": " + resource + " \"" + quantity +
                "\" is not a number");
        }
    }

    private static int whole(
        final BigDecimal value, final String resource, final String container, final int min, final int max)
    {
        if (value.signum() <= 0 || value.stripTrailingZeros().scale() > 0 ||
            value.compareTo(BigDecimal.valueOf(min)) < 0 || value.compareTo(BigDecimal.valueOf(max)) > 0)
        {
            throw new IllegalArgumentException("container " + container + ": " + resource + " is " +
                value.toPlainString() + ", it must be a whole number from " + min + " to " + max);
        }
        return value.intValueExact();
    }
}
