package dev.bitfusion.benchmarks.fuzz;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A bounded, seeded fuzz of both streams against a real server: no crash, no request the server could read left
 * unanswered, no leak, and a legitimate client working throughout. The long run is {@link WireFuzzRun}.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class WireFuzzTest
{
    private static final long MESSAGES = 30_000;

    @Test
    void shouldSurviveHostileMessagesOfEveryKindAndKeepServingALegitimateClient() throws Exception
    {
        final WireFuzzCampaign.Outcome outcome = WireFuzzCampaign.run(MESSAGES, 20_251_111L, null);
        System.out.println("wire fuzz: " + outcome.summary());

        assertEquals(MESSAGES, outcome.messages);
        assertTrue(outcome.findings.isEmpty(), () -> "findings: " + outcome.findings);
        assertEquals(0, outcome.legitimateFailures);
        assertTrue(outcome.fuzz.answered >= outcome.fuzz.answersExpected, outcome::summary);
        assertTrue(outcome.fuzz.asyncErrors > 0 && outcome.fuzz.controlReplies > 0, outcome::summary);
    }
}
