package dev.bitfusion.health.report;

import dev.bitfusion.health.CheckGroup;
import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.HealthReport;
import dev.bitfusion.health.HealthStatus;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TextReportWriterTest
{
    @Test
    void shouldPrintSectionsInTheDocumentedFormat()
    {
        final HealthReport server = new HealthReport("172.16.31.206:56001", List.of(
            new CheckResult(CheckGroup.STABILITY, "GPU compute mode", HealthStatus.FATAL, "GPU 0 (A100) PROHIBITED"),
            new CheckResult(CheckGroup.SOFTWARE_VERSIONS, "CUDA version >= 9000", HealthStatus.PASS,
                "Current version: 10020"),
            new CheckResult(CheckGroup.PERFORMANCE, "MTU >= 4K on interfaces >= 10000Mbps", HealthStatus.MARGINAL,
                "10000Mbps interface ens192 has low MTU: 1500 < 4K")));
        final HealthReport local = new HealthReport(HealthReport.LOCALHOST, List.of(
            new CheckResult(CheckGroup.SYSTEM_RESOURCES, "bitfusion install", HealthStatus.SKIPPED, "unknown"),
            new CheckResult(CheckGroup.PERFORMANCE, "interface/subnet compatibility", HealthStatus.INFO,
                "No servers configured")));

        final String expected = """
            Health report for server: 172.16.31.206:56001
            =====

            Software Versions checks:
            =====
            [PASS    ] Check CUDA version >= 9000: Current version: 10020

            System Resources checks:
            =====

            Performance checks:
            =====
            [MARGINAL] Check MTU >= 4K on interfaces >= 10000Mbps: 10000Mbps interface ens192 has low MTU: 1500 < 4K

            Stability checks:
            =====
            [FATAL   ] Check GPU compute mode: GPU 0 (A100) PROHIBITED

            Consistency checks:
            =====
            PASS: 1
            INFO: 0
            SKIPPED: 0
            MARGINAL: 1
            FATAL: 1

            Health report for localhost
            =====

            Software Versions checks:
            =====

            System Resources checks:
            =====
            [SKIPPED ] Check bitfusion install: unknown

            Performance checks:
            =====
            [INFO    ] Check interface/subnet compatibility: No servers configured

            Stability checks:
            =====

            Consistency checks:
            =====
            PASS: 0
            INFO: 1
            SKIPPED: 1
            MARGINAL: 0
            FATAL: 0
            """;

        assertEquals(expected, new TextReportWriter().render(List.of(server, local)));
    }
}
