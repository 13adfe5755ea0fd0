package dev.bitfusion.systemtests;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.DatagramSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code bin/bitfusion health} as a user runs it, against a real server process on loopback: the report
 * has one section per server then localhost, every section has the groups in order, and its consistency
 * counts add up to its check lines. A server that does not answer gets a FATAL section of its own while
 * the others still print.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class HealthSystemTest
{
    private static final List<String> GROUP_HEADINGS = List.of(
        "Software Versions checks:", "System Resources checks:", "Performance checks:", "Stability checks:",
        "Consistency checks:");
    private static final Pattern CHECK_LINE =
        Pattern.compile("^\\[(PASS|INFO|SKIPPED|MARGINAL|FATAL) *\\] Check (.+?): (.*)$");
    private static final Pattern COUNT_LINE = Pattern.compile("^(PASS|INFO|SKIPPED|MARGINAL|FATAL): (\\d+)$");
    private static final long HEALTH_TIMEOUT_S = 90;

    enum Status
    {
        PASS, INFO, SKIPPED, MARGINAL, FATAL
    }

    /**
     * One section of the text report.
     *
     * @param title   e.g. "Health report for server: 127.0.0.1:56001".
     * @param lines   every line under the title.
     * @param checks  the check lines, "[STATUS] Check name: detail".
     */
    record Section(String title, List<String> lines, List<String> checks)
    {
        Status statusOf(final String checkName)
        {
            for (final String check : checks)
            {
                final Matcher matcher = CHECK_LINE.matcher(check);
                if (matcher.matches() && matcher.group(2).equals(checkName))
                {
                    return Status.valueOf(matcher.group(1));
                }
            }
            throw new AssertionError("no check '" + checkName + "' in " + title + ": " + checks);
        }
    }

    /**
     * @param exitCode the command's exit code.
     * @param stdout   the report.
     * @param stderr   notes.
     */
    record Run(int exitCode, String stdout, String stderr)
    {
    }

    @TempDir
    Path tmp;

    private ServerProcess server;

    @BeforeEach
    void startServer() throws IOException, InterruptedException
    {
        server = ServerProcess.start(1024);
    }

    @AfterEach
    void stopServer() throws InterruptedException
    {
        if (server != null)
        {
            server.close();
        }
    }

    @Test
    void shouldPrintServerThenLocalhostWithCountsMatchingChecksWhenServerRuns() throws Exception
    {
        final Run run = health("--server_list", server.serverList());
        final List<Section> sections = sections(run);

        assertEquals(2, sections.size(), run::toString);
        assertEquals("Health report for server: " + server.serverList(), sections.get(0).title());
        assertEquals("Health report for localhost", sections.get(1).title());
        for (final Section section : sections)
        {
            assertWellFormed(section, run);
        }

        final Section remote = sections.get(0);
        assertEquals(Status.PASS, remote.statusOf("connectivity and auth token"), run::toString);
        assertEquals(Status.PASS, remote.statusOf("GPU API mismatch (client and server protocol versions)"));
        // The emulated GPU has no sensors, ECC or PCIe link: never a PASS for those.
        assertEquals(Status.SKIPPED, remote.statusOf("GPU temperature <= 85C"));
        assertEquals(Status.SKIPPED, remote.statusOf("GPU ECC errors"));
        assertEquals(Status.SKIPPED, remote.statusOf("PCIe link width at maximum"));
        assertEquals(Status.INFO, remote.statusOf("GPUs available"));
        // Latency and bandwidth were measured through a real session, whatever the figures.
        assertMeasured(remote, "round-trip latency <= 50.0 µs", run);
        assertMeasured(remote, "bandwidth >= 1.00 GB/s", run);
        // The server's own host checks travel in its section.
        remote.statusOf("ulimit -n >= 4096");
        remote.statusOf("GPU Xid errors");

        final Section local = sections.get(1);
        assertEquals(Status.PASS, local.statusOf("interface/subnet compatibility for " + server.serverList()));
        assertEquals(Status.PASS, local.statusOf("bitfusion install"), run::toString);

        assertEquals(anyFatal(sections) ? 1 : 0, run.exitCode(), run::toString);
    }

    @Test
    void shouldReportUnreachableServerFatalWhileOthersStillPrint() throws Exception
    {
        final String unreachable = "127.0.0.1:" + freePort();
        final Run run = health("--server_list", unreachable + "," + server.serverList(), "--timeout-ms", "3000");
        final List<Section> sections = sections(run);

        assertEquals(3, sections.size(), run::toString);
        assertEquals("Health report for server: " + unreachable, sections.get(0).title());
        assertEquals("Health report for server: " + server.serverList(), sections.get(1).title());
        assertEquals("Health report for localhost", sections.get(2).title());
        for (final Section section : sections)
        {
            assertWellFormed(section, run);
        }

        final Section dead = sections.get(0);
        assertEquals(1, dead.checks().size(), run::toString);
        assertEquals(Status.FATAL, dead.statusOf("connectivity and auth token"));
        assertTrue(dead.checks().get(0).contains("no answer from bitfusion server " + unreachable), run::toString);
        assertEquals(Status.PASS, sections.get(1).statusOf("connectivity and auth token"), run::toString);

        assertEquals(1, run.exitCode(), run::toString);
    }

    private Run health(final String... args) throws IOException, InterruptedException
    {
        final Path root = Path.of("").toAbsolutePath().getParent();
        final Path launcher = root.resolve("bin/bitfusion");
        if (!Files.isRegularFile(root.resolve("cli/target/lib/bitfusion-cli.jar")))
        {
            fail("the distribution is not built: run ./mvnw -DskipTests package in " + root);
        }
        final List<String> command = new ArrayList<>(List.of(launcher.toString(), "health"));
        command.addAll(List.of(args));
        final Path stdout = tmp.resolve("health.out");
        final Path stderr = tmp.resolve("health.err");
        final ProcessBuilder builder = new ProcessBuilder(command)
            .redirectOutput(stdout.toFile())
            .redirectError(stderr.toFile());
        builder.environment().remove("BITFUSION_SERVERS");
        builder.environment().remove("BITFUSION_TOKEN");
        final Process process = builder.start();
        try
        {
            if (!process.waitFor(HEALTH_TIMEOUT_S, TimeUnit.SECONDS))
            {
                fail("bitfusion health did not finish in " + HEALTH_TIMEOUT_S + " s: " + Files.readString(stdout));
            }
        }
        finally
        {
            process.destroyForcibly();
        }
        return new Run(process.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8),
            Files.readString(stderr, StandardCharsets.UTF_8));
    }

    private static List<Section> sections(final Run run)
    {
        final List<Section> sections = new ArrayList<>();
        List<String> lines = null;
        for (final String line : run.stdout().split("\n", -1))
        {
            if (line.startsWith("Health report for "))
            {
                lines = new ArrayList<>();
                sections.add(new Section(line, lines, new ArrayList<>()));
            }
            else if (lines != null)
            {
                lines.add(line);
                if (line.startsWith("["))
                {
                    sections.get(sections.size() - 1).checks().add(line);
                }
            }
            else if (!line.isEmpty())
            {
                fail("text before the first section: '" + line + "' in " + run);
            }
        }
        return sections;
    }

    private static void assertWellFormed(final Section section, final Run run)
    {
        // The groups appear in the documented order, each underlined.
        int from = 0;
        for (final String heading : GROUP_HEADINGS)
        {
            final int at = section.lines().subList(from, section.lines().size()).indexOf(heading);
            assertTrue(at >= 0, () -> "'" + heading + "' missing or out of order in " + section.title() + ": " + run);
            assertEquals("=====", section.lines().get(from + at + 1));
            from += at + 2;
        }

        final Map<Status, Integer> checkCounts = new EnumMap<>(Status.class);
        for (final String check : section.checks())
        {
            final Matcher matcher = CHECK_LINE.matcher(check);
            assertTrue(matcher.matches(), () -> "malformed check line '" + check + "' in " + run);
            checkCounts.merge(Status.valueOf(matcher.group(1)), 1, Integer::sum);
        }

        final Map<Status, Integer> reported = new EnumMap<>(Status.class);
        for (final String line : section.lines().subList(from, section.lines().size()))
        {
            final Matcher matcher = COUNT_LINE.matcher(line);
            if (matcher.matches())
            {
                reported.put(Status.valueOf(matcher.group(1)), Integer.parseInt(matcher.group(2)));
            }
        }
        assertEquals(Status.values().length, reported.size(), () -> "consistency counts of " + section.title() + ": " + run);
        int total = 0;
        for (final Status status : Status.values())
        {
            assertEquals(checkCounts.getOrDefault(status, 0), reported.get(status),
                () -> status + " count of " + section.title() + ": " + run);
            total += reported.get(status);
        }
        assertEquals(section.checks().size(), total);
    }

    private static void assertMeasured(final Section section, final String checkName, final Run run)
    {
        final Status status = section.statusOf(checkName);
        assertTrue(Status.PASS == status || Status.MARGINAL == status, () -> checkName + " not measured: " + run);
    }

    private static boolean anyFatal(final List<Section> sections)
    {
        for (final Section section : sections)
        {
            for (final String check : section.checks())
            {
                if (check.startsWith("[FATAL"))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static int freePort() throws IOException
    {
        try (DatagramSocket socket = new DatagramSocket(0))
        {
            return socket.getLocalPort();
        }
    }
}
