package dev.bitfusion.kubernetes.admission;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GpuRequestTest
{
    @Test
    void shouldReadNothingWhenNoGpuResourceIsNamed()
    {
        assertNull(GpuRequest.of(container(Map.of("cpu", "1"), Map.of())));
    }

    @Test
    void shouldChargePercentTimesGpus()
    {
        final GpuRequest request = GpuRequest.of(container(
            Map.of(PodContract.GPU_AMOUNT_RESOURCE, "3", PodContract.GPU_PERCENT_RESOURCE, "40"), Map.of()));

        assertEquals(120, request.quotaUnits(0));
        assertEquals(List.of("-n", "3", "-p", "0.4"), request.runOptions());
    }

    @Test
    void shouldChargeAMemorySliceByItsShareRoundedUpOrAsAWholeGpuWhenTheGpuSizeIsUnknown()
    {
        final GpuRequest request = GpuRequest.of(container(Map.of(PodContract.GPU_MEMORY_RESOURCE, "1000"), Map.of()));

        assertEquals(7, request.quotaUnits(16384));
        assertEquals(100, request.quotaUnits(512));
        assertEquals(100, request.quotaUnits(0));
        assertEquals(List.of("-n", "1", "-m", "1000"), request.runOptions());
    }

    @Test
    void shouldReadRequestsWhenLimitsDoNotNameTheResource()
    {
        final GpuRequest request = GpuRequest.of(container(Map.of(), Map.of(PodContract.GPU_PERCENT_RESOURCE, "75")));

        assertEquals(75, request.percent());
    }

    @Test
    void shouldRefuseConflictingOrMalformedAsks()
    {
        assertMessage("set it once, in limits", container(Map.of(PodContract.GPU_PERCENT_RESOURCE, "50"),
            Map.of(PodContract.GPU_PERCENT_RESOURCE, "40")));
        assertMessage("keep one", container(Map.of(PodContract.GPU_PERCENT_RESOURCE, "50",
            PodContract.GPU_MEMORY_RESOURCE, "1024"), Map.of()));
        assertMessage("whole number from 1 to 64", container(Map.of(PodContract.GPU_AMOUNT_RESOURCE, "0"), Map.of()));
        assertMessage("whole number from 1 to 100", container(Map.of(PodContract.GPU_PERCENT_RESOURCE, "500m"), Map.of()));
    }

    private static void assertMessage(final String expected, final Container container)
    {
        final IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> GpuRequest.of(container));
        assertTrue(refused.getMessage().contains(expected), refused.getMessage());
    }

    private static Container container(final Map<String, String> limits, final Map<String, String> requests)
    {
        final ContainerBuilder builder = new ContainerBuilder().withName("c").withNewResources().endResources();
        limits.forEach((name, amount) -> builder.editResources().addToLimits(name, new Quantity(amount)).endResources());
        requests.forEach((name, amount) -> builder.editResources().addToRequests(name, new Quantity(amount)).endResources());
        return builder.build();
    }
}
