package dev.bitfusion.health.server;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthStatus;
import dev.bitfusion.health.check.ShadowMemoryCheck;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Checks of the GPUs a server reports. The emulated GPU has no sensors, ECC, PCIe link or driver
 * modes, so each of these says that with INFO or SKIPPED rather than passing it.
 */
public final class GpuChecks
{
    static final String PCIE_NO_ROOT = "Cannot perform PCIe diagnosis without root access";

    private GpuChecks()
    {
    }

    /**
     * @param facts the server.
     * @return PASS with the GPUs listed, FATAL when a CUDA server offers none.
     */
    public static CheckResult gpuCount(final ServerFacts facts)
    {
        final String name = "GPUs available";
        final List<String> labels = new ArrayList<>();
        for (final GpuFacts gpu : facts.gpus())
        {
            labels.add(gpu.label());
        }
        if (labels.isEmpty())
        {
            return result(CheckGroup.SYSTEM_RESOURCES, name, HealthStatus.FATAL, "Server offers no GPU");
        }
        final HealthStatus status = facts.emulated() ? HealthStatus.INFO : HealthStatus.PASS;
        final String prefix = facts.emulated() ? "emulated backend: " : "";
        return result(CheckGroup.SYSTEM_RESOURCES, name, status, prefix + String.join(", ", labels));
    }

    /**
     * @param facts the server.
     * @return server host memory against its GPUs' memory, which it stages copies for.
     */
    public static CheckResult shadowMemory(final ServerFacts facts)
    {
        if (facts.emulated())
        {
            return new CheckResult(CheckGroup.SYSTEM_RESOURCES, "shadow memory (host memory >= GPU memory)",
                HealthStatus.INFO, "emulated GPU: device memory is host memory");
        }
        if (facts.hostMemoryBytes() <= 0)
        {
            return new CheckResult(CheckGroup.SYSTEM_RESOURCES, "shadow memory (host memory >= GPU memory)",
                HealthStatus.SKIPPED, "Server did not report its host memory");
        }
        return ShadowMemoryCheck.evaluate(facts.hostMemoryBytes(), facts.gpuMemoryTotalBytes());
    }

    /**
     * @param facts the server.
     * @return FATAL for a link that is down, MARGINAL for one below its maximum width.
     */
    public static CheckResult pcieLinkWidth(final ServerFacts facts)
    {
        final String name = "PCIe link width at maximum";
        if (facts.emulated())
        {
            return result(CheckGroup.PERFORMANCE, name, HealthStatus.SKIPPED, "emulated GPU: no PCIe link");
        }
        final List<String> down = new ArrayList<>();
        final List<String> narrow = new ArrayList<>();
        final List<String> full = new ArrayList<>();
        for (final GpuFacts gpu : facts.gpus())
        {
            if (gpu.currentLinkWidth() < 0 || gpu.maxLinkWidth() < 0)
            {
                return result(CheckGroup.PERFORMANCE, name, HealthStatus.SKIPPED, PCIE_NO_ROOT);
            }
            if (0 == gpu.currentLinkWidth())
            {
                down.add(gpu.label() + " PCIe link is down (x0 of x" + gpu.maxLinkWidth() + ")");
            }
            else if (gpu.currentLinkWidth() < gpu.maxLinkWidth())
            {
                narrow.add(gpu.label() + " PCIe link width x" + gpu.currentLinkWidth() + " < max x" + gpu.maxLinkWidth());
            }
            else
            {
                full.add("GPU " + gpu.index() + " x" + gpu.currentLinkWidth());
            }
        }
        if (!down.isEmpty())
        {
            down.addAll(narrow);
            return result(CheckGroup.PERFORMANCE, name, HealthStatus.FATAL, String.join("; ", down));
        }
        if (!narrow.isEmpty())
        {
            return result(CheckGroup.PERFORMANCE, name, HealthStatus.MARGINAL, String.join("; ", narrow));
        }
        if (full.isEmpty())
        {
            return result(CheckGroup.PERFORMANCE, name, HealthStatus.SKIPPED, "No GPU to check");
        }
        return result(CheckGroup.PERFORMANCE, name, HealthStatus.PASS, "At max link width: " + String.join(", ", full));
    }

    /**
     * @param facts the server.
     * @return whether every GPU can wait on and write memory from a stream (cuStreamWaitValue and kin).
     */
    public static CheckResult streamMemOps(final ServerFacts facts)
    {
        return attribute(facts, "stream memory ops support", GpuFacts::streamMemOps);
    }

    /**
     * @param facts the server.
     * @return whether every GPU can use host pointers of registered memory directly.
     */
    public static CheckResult hostPointerOnDevice(final ServerFacts facts)
    {
        return attribute(facts, "host pointer on device support", GpuFacts::hostPointerOnDevice);
    }

    /**
     * @param facts the server.
     * @return P2P between the server's GPUs, for multi-GPU reservations on one server.
     */
    public static CheckResult p2p(final ServerFacts facts)
    {
        final String name = "PCIe P2P between GPUs";
        if (facts.emulated())
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.INFO, "emulated GPU: no PCIe P2P");
        }
        if (facts.gpus().size() < 2)
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.INFO,
                facts.gpus().size() + " GPU(s): no peer to test");
        }
        if (null == facts.p2pSupported())
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.SKIPPED, "Server did not test P2P");
        }
        return facts.p2pSupported() ?
            result(CheckGroup.STABILITY, name, HealthStatus.PASS, "All " + facts.gpus().size() + " GPUs can access peers") :
            result(CheckGroup.STABILITY, name, HealthStatus.MARGINAL,
                "Not every GPU pair supports P2P: multi-GPU copies go through host memory");
    }

    /**
     * @param facts     the server.
     * @param limitC    temperature above which the check is MARGINAL.
     * @param criticalC temperature from which the check is FATAL.
     * @return the hottest GPU against the limits.
     */
    public static CheckResult temperature(final ServerFacts facts, final int limitC, final int criticalC)
    {
        final String name = "GPU temperature <= " + limitC + "C";
        if (facts.emulated())
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.SKIPPED, "emulated GPU: no temperature sensor");
        }
        GpuFacts hottest = null;
        for (final GpuFacts gpu : facts.gpus())
        {
            if (gpu.temperatureC() < 0)
            {
                return result(CheckGroup.STABILITY, name, HealthStatus.SKIPPED, gpu.label() + " reports no temperature");
            }
            if (null == hottest || gpu.temperatureC() > hottest.temperatureC())
            {
                hottest = gpu;
            }
        }
        if (null == hottest)
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.SKIPPED, "No GPU to check");
        }
        final String detail = "Hottest: " + hottest.label() + " at " + hottest.temperatureC() + "C";
        if (hottest.temperatureC() >= criticalC)
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.FATAL, detail + " >= critical " + criticalC + "C");
        }
        if (hottest.temperatureC() > limitC)
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.MARGINAL, detail + " > " + limitC + "C");
        }
        return result(CheckGroup.STABILITY, name, HealthStatus.PASS, detail);
    }

    /**
     * @param facts the server.
     * @return FATAL on uncorrected errors, MARGINAL on corrected ones, INFO where ECC is off.
     */
    public static CheckResult ecc(final ServerFacts facts)
    {
        final String name = "GPU ECC errors";
        if (facts.emulated())
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.SKIPPED, "emulated GPU: no ECC memory");
        }
        final List<String> uncorrected = new ArrayList<>();
        final List<String> corrected = new ArrayList<>();
        final List<String> off = new ArrayList<>();
        int clean = 0;
        for (final GpuFacts gpu : facts.gpus())
        {
            if (EccState.UNKNOWN == gpu.ecc())
            {
                return result(CheckGroup.STABILITY, name, HealthStatus.SKIPPED, gpu.label() + " reports no ECC state");
            }
            if (EccState.ENABLED != gpu.ecc())
            {
                off.add(gpu.label() + " ECC " + gpu.ecc().name().toLowerCase());
            }
            else if (gpu.eccUncorrectableErrors() > 0)
            {
                uncorrected.add(gpu.label() + " " + gpu.eccUncorrectableErrors() + " uncorrected");
            }
            else if (gpu.eccCorrectableErrors() > 0)
            {
                corrected.add(gpu.label() + " " + gpu.eccCorrectableErrors() + " corrected");
            }
            else
            {
                clean++;
            }
        }
        if (!uncorrected.isEmpty())
        {
            uncorrected.addAll(corrected);
            return result(CheckGroup.STABILITY, name, HealthStatus.FATAL, String.join(", ", uncorrected));
        }
        if (!corrected.isEmpty())
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.MARGINAL, String.join(", ", corrected));
        }
        if (!off.isEmpty())
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.INFO, String.join(", ", off));
        }
        if (0 == clean)
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.SKIPPED, "No GPU to check");
        }
        return result(CheckGroup.STABILITY, name, HealthStatus.PASS, "No ECC errors on " + clean + " GPU(s)");
    }

    /**
     * The server runs every tenant in one process, so DEFAULT and EXCLUSIVE_PROCESS both work;
     * PROHIBITED allows no context at all.
     *
     * @param facts the server.
     * @return the report line.
     */
    public static CheckResult computeMode(final ServerFacts facts)
    {
        final String name = "GPU compute mode";
        if (facts.emulated())
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.INFO, "emulated GPU: compute mode does not apply");
        }
        final List<String> prohibited = new ArrayList<>();
        final List<String> limited = new ArrayList<>();
        final List<String> fine = new ArrayList<>();
        for (final GpuFacts gpu : facts.gpus())
        {
            final String entry = gpu.label() + " " + gpu.computeMode();
            switch (gpu.computeMode())
            {
                case PROHIBITED -> prohibited.add(entry);
                case EXCLUSIVE_THREAD, UNKNOWN -> limited.add(entry);
                default -> fine.add(entry);
            }
        }
        if (!prohibited.isEmpty())
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.FATAL, String.join(", ", prohibited));
        }
        if (!limited.isEmpty())
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.MARGINAL, String.join(", ", limited));
        }
        if (fine.isEmpty())
        {
            return result(CheckGroup.STABILITY, name, HealthStatus.SKIPPED, "No GPU to check");
        }
        return result(CheckGroup.STABILITY, name, HealthStatus.PASS, String.join(", ", fine));
    }

    private static CheckResult attribute(
        final ServerFacts facts, final String name, final Function<GpuFacts, Boolean> attribute)
    {
        final List<String> lacking = new ArrayList<>();
        int supported = 0;
        for (final GpuFacts gpu : facts.gpus())
        {
            final Boolean value = attribute.apply(gpu);
            if (null == value)
            {
                return result(CheckGroup.PERFORMANCE, name, HealthStatus.SKIPPED, gpu.label() + " did not report it");
            }
            if (value)
            {
                supported++;
            }
            else
            {
                lacking.add(gpu.label());
            }
        }
        if (facts.emulated())
        {
            return result(CheckGroup.PERFORMANCE, name, HealthStatus.INFO,
                "emulated GPU reports " + (lacking.isEmpty() ? "support" : "no support"));
        }
        if (!lacking.isEmpty())
        {
            return result(CheckGroup.PERFORMANCE, name, HealthStatus.MARGINAL, "Not supported on " + String.join(", ", lacking));
        }
        if (0 == supported)
        {
            return result(CheckGroup.PERFORMANCE, name, HealthStatus.SKIPPED, "No GPU to check");
        }
        return result(CheckGroup.PERFORMANCE, name, HealthStatus.PASS, "Supported on " + supported + " GPU(s)");
    }

    private static CheckResult result(
        final CheckGroup group, final String name, final HealthStatus status, final String detail)
    {
        return new CheckResult(group, name, status, detail);
    }
}
