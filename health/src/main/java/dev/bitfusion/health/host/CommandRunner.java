package dev.bitfusion.health.host;

import java.util.List;

/**
 * Runs an external command for a probe, e.g. {@code dmesg}. Injected so tests give canned output.
 */
@FunctionalInterface
public interface CommandRunner
{
    /**
     * Runs the command to completion or until a bounded time has passed.
     *
     * @param command the program and its arguments.
     * @return the exit code and output; a command that cannot start is a result with a non-zero exit
     *         code and the reason in {@link CommandResult#stderr()}, never an exception.
     */
    CommandResult run(List<String> command);
}
