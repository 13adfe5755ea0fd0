package dev.bitfusion.agent.javaagent;

import dev.bitfusion.agent.driver.RemoteDriver;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.pool.TypePool;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;

import static net.bytebuddy.matcher.ElementMatchers.named;

/**
 * Fixes GPU detection in stacks that look for the GPU without asking the driver, and so find none on a
 * machine whose only GPUs are remote. Each advice is inlined into the stack's own class, so it uses nothing
 * but the JDK: the agent publishes what it knows as the system property {@code bitfusion.gpu.count}.
 * <ul>
 *   <li>{@link DjlGpuCount} and {@link DjlCudaVersion}, on DJL's {@code ai.djl.util.cuda.CudaUtils}: DJL
 *   loads the CUDA runtime ({@code libcudart.so}) through JNA to count GPUs and, when it finds none (no
 *   toolkit on the machine, which a client of remote GPUs does not need), silently picks the CPU:
 *   {@code getGpuCount()} returns 0, {@code hasCuda()} false, and {@code getCudaVersion()} throws. With the
 *   agent, a CudaUtils that loaded no runtime reports the agent's GPUs and the CUDA version our driver
 *   implements, so DJL's engines choose their CUDA flavour and place tensors on the remote GPU.</li>
 * </ul>
 * A CudaUtils that did load a runtime (a toolkit is installed) is left to answer for itself: its runtime talks
 * to our driver anyway.
 * <p>
 * Thread safety: installed once, from premain.
 */
final class GpuDetectionAdvice
{
    private static final String DJL_CUDA_UTILS = "ai/djl/util/cuda/CudaUtils";

    private GpuDetectionAdvice()
    {
    }

    /**
     * Watches class loading for the classes advised here; ByteBuddy itself loads only when one of them does,
     * so a JVM without those stacks does not pay for it at start-up.
     */
    static void install(final Instrumentation instrumentation)
    {
        instrumentation.addTransformer(new ClassFileTransformer()
        {
            public byte[] transform(
                final ClassLoader loader, final String name, final Class<?> redefined, final ProtectionDomain domain,
                final byte[] bytes)
            {
                return DJL_CUDA_UTILS.equals(name) ? adviseDjl(loader, bytes) : null;
            }
        });
    }

    private static byte[] adviseDjl(final ClassLoader loader, final byte[] bytes)
    {
        try
        {
            final String type = DJL_CUDA_UTILS.replace('/', '.');
            final ClassFileLocator locator = new ClassFileLocator.Compound(
                ClassFileLocator.Simple.of(type, bytes), ClassFileLocator.ForClassLoader.of(loader));
            return new ByteBuddy()
                .redefine(TypePool.Default.of(locator).describe(type).resolve(), locator)
                .visit(Advice.to(DjlGpuCount.class).on(named("getGpuCount")))
                .visit(Advice.to(DjlHasCuda.class).on(named("hasCuda")))
                .visit(Advice.to(DjlCudaVersion.class).on(named("getCudaVersion")))
                .make()
                .getBytes();
        }
        catch (final RuntimeException | LinkageError ex)
        {
            System.err.println("bitfusion agent: DJL's GPU detection is left as it is: " + ex);
            return null;
        }
    }

    /** {@code CudaUtils.getGpuCount()}: the agent's GPUs when DJL found no CUDA runtime. */
    static final class DjlGpuCount
    {
        private DjlGpuCount()
        {
        }

        @Advice.OnMethodExit
        static void exit(@Advice.FieldValue("LIB") final Object runtime, @Advice.Return(readOnly = false) int count)
        {
            if (runtime == null)
            {
                count = Integer.getInteger(AgentRuntime.GPU_COUNT_PROP_NAME, 0);
            }
        }
    }

    /** {@code CudaUtils.hasCuda()}: true when the agent has GPUs, though DJL found no CUDA runtime. */
    static final class DjlHasCuda
    {
        private DjlHasCuda()
        {
        }

        @Advice.OnMethodExit
        static void exit(@Advice.FieldValue("LIB") final Object runtime, @Advice.Return(readOnly = false) boolean has)
        {
            if (runtime == null)
            {
                has = Integer.getInteger(AgentRuntime.GPU_COUNT_PROP_NAME, 0) > 0;
            }
        }
    }

    /**
     * {@code CudaUtils.getCudaVersion()}: without a runtime DJL throws; the agent answers with the version its
     * driver implements, which {@code getCudaVersionString()} derives its answer from.
     */
    static final class DjlCudaVersion
    {
        private DjlCudaVersion()
        {
        }

        @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class)
        static boolean enter(@Advice.FieldValue("LIB") final Object runtime)
        {
            return runtime == null && Integer.getInteger(AgentRuntime.GPU_COUNT_PROP_NAME, 0) > 0;
        }

        @Advice.OnMethodExit
        static void exit(@Advice.Enter final boolean answered, @Advice.Return(readOnly = false) int version)
        {
            if (answered)
            {
                version = RemoteDriver.DRIVER_VERSION;
            }
        }
    }
}
