package dev.bitfusion.agent.javaagent;

import java.lang.reflect.Method;

/**
 * A shutdown action that runs after every shutdown hook of the application has finished, on a normal end, on
 * {@code System.exit} and on SIGTERM alike. Application hooks registered with
 * {@code Runtime.addShutdownHook} all run, concurrently and joined, in one system slot of
 * {@code java.lang.Shutdown}; the JDK runs its system slots in order, so an action registered in a later slot
 * runs after them. TornadoVM's own hook makes CUDA calls, so the session must outlive it. The slot is taken
 * through {@code jdk.internal.access}, which {@link BitfusionAgent} exports to the agent's loader.
 * <p>
 * Thread safety: register once, from premain.
 */
final class LateShutdownHook
{
    /**
     * The last of {@code java.lang.Shutdown}'s ten system slots: the JDK uses 0 (console), 1 (application hooks)
     * and 2 (delete on exit).
     */
    static final int SLOT = 9;

    private LateShutdownHook()
    {
    }

    /**
     * @param action what to run at shutdown.
     * @return true when it runs after the application's hooks; false when the JDK refused the slot and it was
     * registered as an ordinary hook, running alongside them.
     */
    static boolean register(final Runnable action)
    {
        try
        {
            final Class<?> secrets = Class.forName("jdk.internal.access.SharedSecrets");
            final Object access = secrets.getMethod("getJavaLangAccess").invoke(null);
            final Method register = Class.forName("jdk.internal.access.JavaLangAccess")
                .getMethod("registerShutdownHook", int.class, boolean.class, Runnable.class);
            register.invoke(access, SLOT, false, action);
            return true;
        }
        catch (final ReflectiveOperationException | RuntimeException ex)
        {
            Runtime.getRuntime().addShutdownHook(new Thread(action, "bitfusion-agent-shutdown"));
            return false;
        }
    }
}
