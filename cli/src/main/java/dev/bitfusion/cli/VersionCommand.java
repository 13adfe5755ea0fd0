package dev.bitfusion.cli;

import dev.bitfusion.health.BitfusionVersion;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/**
 * {@code bitfusion version}: the version this distribution was built as, and the Java runtime it runs on.
 * <p>
 * Thread safety: a command object runs once, on the main thread.
 */
@Command(name = "version", mixinStandardHelpOptions = true, description = "Print the bitfusion version.")
final class VersionCommand implements Callable<Integer>
{
    public Integer call()
    {
        System.out.println("bitfusion " + BitfusionVersion.current() + " (Java " + Runtime.version() + ", " +
            System.getProperty("java.home") + ")");
        return 0;
    }
}
