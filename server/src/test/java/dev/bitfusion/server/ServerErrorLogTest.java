package dev.bitfusion.server;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ServerErrorLogTest
{
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);

    private List<String> lines()
    {
        return output.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void shouldWriteEachDistinctErrorOnceAndCountEveryRepeat()
    {
        final ServerErrorLog log = new ServerErrorLog(out);

        for (int i = 0; i < 1000; i++)
        {
            log.record("control: truncated message of 3 bytes ignored");
        }
        log.record("control: unknown opcode (template 99) ignored");
        log.record("control: truncated message of 3 bytes ignored");

        assertEquals(1002, log.errorCount());
        final List<String> lines = lines();
        assertEquals(2, lines.size(), lines::toString);
        assertTrue(lines.get(0).endsWith("bitfusion-server: control: truncated message of 3 bytes ignored"), lines.get(0));
        assertTrue(lines.get(1).endsWith("bitfusion-server: control: unknown opcode (template 99) ignored"), lines.get(1));
    }

    @Test
    void shouldWriteAFailureOnceOnOneLine()
    {
        final ServerErrorLog log = new ServerErrorLog(out);
        final IllegalStateException failure = new IllegalStateException("the emulator tripped");

        log.onError(failure);
        log.onError(failure);

        assertEquals(List.of("java.lang.IllegalStateException: the emulator tripped"),
            lines().stream().map(line -> line.substring(line.indexOf("bitfusion-server: ") + 18)).toList());
        assertEquals(2, log.errorCount());
    }

    @Test
    void shouldKeepCountingAndSayOnceWhenTheLogIsFull()
    {
        final ServerErrorLog log = new ServerErrorLog(out);
        final String padding = "x".repeat(1000);
        final int distinct = ServerErrorLog.LOG_BYTES / 1000 + 10;

        for (int i = 0; i < distinct; i++)
        {
            log.record("error " + i + " " + padding);
        }

        assertEquals(distinct, log.errorCount());
        final List<String> lines = lines();
        assertEquals(1, lines.stream().filter(line -> line.contains("the error log is full")).count());
        assertTrue(lines.size() < distinct, "errors past a full log are not written");
    }

    @Test
    void shouldWriteSessionEventsUnlessEmbedded()
    {
        new ServerErrorLog(out).info("session 1 opened");
        final ServerErrorLog embedded = new ServerErrorLog(out, false);
        embedded.info("session 2 opened");
        embedded.record("session refused");

        final List<String> lines = lines();
        assertEquals(2, lines.size(), lines::toString);
        assertTrue(lines.get(0).endsWith("session 1 opened"));
        assertTrue(lines.get(1).endsWith("session refused"));
        assertEquals(0, new ServerErrorLog(out).errorCount(), "an event is not an error");
    }
}
