package dev.bitfusion.benchmarks.agent;

/**
 * The smallest JVM program: what {@code BridgeBenchmark} starts with and without the Java agent, so the
 * difference is the agent's own start-up cost (unpacking, class loading, our libraries, and in eager mode the
 * session it opens).
 */
public final class StartupProbe
{
    private StartupProbe()
    {
    }

    public static void main(final String[] args)
    {
        System.out.println("started");
    }
}
