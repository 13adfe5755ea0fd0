package dev.bitfusion.health.host;

/**
 * What a command printed and how it ended.
 *
 * @param exitCode the process exit code, non-zero also when it could not start or timed out.
 * @param stdout   standard output.
 * @param stderr   standard error, or the reason it could not run.
 */
public record CommandResult(int exitCode, String stdout, String stderr)
{
    /**
     * @return true when the command exited with 0.
     */
    public boolean succeeded()
    {
        return 0 == exitCode;
    }
}
