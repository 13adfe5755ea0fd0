package dev.bitfusion.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code bitfusion} command: one entry point for servers, clients and tools.
 */
@Command(
    name = "bitfusion",
    mixinStandardHelpOptions = true,
    version = "bitfusion 0.1.0",
    description = "Network-attached full or partial GPUs for any CUDA program.",
    subcommands = {
        ServerCommand.class,
        ListGpusCommand.class,
        SmiCommand.class,
        DemoCommand.class,
        RunCommand.class,
        RequestGpusCommand.class,
        ClientCommand.class,
        ReleaseGpusCommand.class,
        HealthCommand.class,
        LocalHealthCommand.class,
        WebhookCommand.class,
        NodeCapacityCommand.class,
        VersionCommand.class,
        CommandLine.HelpCommand.class
    })
public final class BitfusionCommand implements Runnable
{
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public void run()
    {
        spec.commandLine().usage(System.err);
    }

    public static void main(final String[] args)
    {
        final CommandLine commandLine = new CommandLine(new BitfusionCommand());
        commandLine.setExecutionExceptionHandler((ex, cmd, parseResult) ->
        {
            cmd.getErr().println("bitfusion " + cmd.getCommandName() + ": " + ex.getMessage());
            return 2;
        });
        System.exit(commandLine.execute(args));
    }
}
