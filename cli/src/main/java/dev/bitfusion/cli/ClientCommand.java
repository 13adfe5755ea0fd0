package dev.bitfusion.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code bitfusion client}: run a program on the GPUs that {@code bitfusion request_gpus} holds, with the environment
 * {@code bitfusion run} gives its programs ({@link ProgramLauncher}) and the program's exit code. Any number may run,
 * also at once: their sessions all attach to the held reservations and share the slices, and none takes capacity of
 * its own.
 * <p>
 * It fails at once, before the program starts, when nothing is held in the file, when the holder lost the GPUs, or
 * when the holder is gone (the servers freed its GPUs when it ended): {@code request_gpus} must be run again.
 * <p>
 * Thread safety: a command object runs once, on the main thread.
 */
@Command(name = "client", mixinStandardHelpOptions = true,
    description = "Run a program on the GPUs held by bitfusion request_gpus: bitfusion client -- ./program ARGS")
final class ClientCommand implements Callable<Integer>
{
    /** The exit code when there are no GPUs to run on, as {@code bitfusion run} gives when it cannot get them. */
    static final int NOTHING_HELD_EXIT_CODE = 3;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE",
        description = "The reservation of request_gpus to use (default ~/.bitfusion/reservation).")
    Path file;

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "The program and its arguments, after --.")
    List<String> command;

    public Integer call() throws Exception
    {
        final Path reservationFile = ReservationFile.resolve(file);
        final ReservationFile held;
        try
        {
            held = ReservationFile.read(reservationFile);
        }
        catch (final NoSuchFileException ex)
        {
            System.err.println("bitfusion client: no GPUs are held in " + reservationFile + ": take some first with " +
                "bitfusion request_gpus -n 1 -p 0.5" + ReservationFile.option(reservationFile));
            return NOTHING_HELD_EXIT_CODE;
        }
        catch (final IllegalArgumentException ex)
        {
            System.err.println("bitfusion client: " + ex.getMessage());
            return 2;
        }
        if (held.lostReason() != null)
        {
            System.err.println("bitfusion client: the GPUs held in " + reservationFile + " were lost (" +
                held.lostReason() + "): run bitfusion request_gpus" + ReservationFile.option(reservationFile) + " again");
            return NOTHING_HELD_EXIT_CODE;
        }
        if (!GpuHolder.isHolderOf(held.holderPid(), reservationFile))
        {
            System.err.println("bitfusion client: the holder of the GPUs in " + reservationFile + " (pid " +
                held.holderPid() + ") is gone, and the servers freed its GPUs when it ended: run bitfusion request_gpus" +
                ReservationFile.option(reservationFile) + " again");
            return NOTHING_HELD_EXIT_CODE;
        }
        return ProgramLauncher.run("client", command, held.gpus(), () -> { });
    }
}
