package dev.bitfusion.benchmarks.fuzz;

/**
 * The long fuzz run: {@code benchmarks/run WireFuzz [MESSAGES [SEED]]} (default 1,000,000 messages, seed 1)
 * sends that many hostile messages to a real server while a legitimate client keeps working, then reports
 * messages per second and what was found; it exits 1 when anything was.
 */
public final class WireFuzzRun
{
    private WireFuzzRun()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final long messages = args.length > 0 ? Long.parseLong(args[0].replace("_", "").replace(",", "")) : 1_000_000;
        final long seed = args.length > 1 ? Long.parseLong(args[1]) : 1;
        final WireFuzzCampaign.Outcome outcome = WireFuzzCampaign.run(messages, seed, System.out);
        System.out.println("wire fuzz, seed " + seed + ": " + outcome.summary());
        System.exit(outcome.findings.isEmpty() ? 0 : 1);
    }
}
