package dev.bitfusion.health.check;

import dev.bitfusion.health.CheckResult;
import dev.bitfusion.health.host.HostView;

/**
 * A probe of one host that ends in one report line. Runs on a client for the localhost section, and on
 * a server for its own section.
 * <p>
 * Implementations are stateless apart from their thresholds, and thread-safe.
 */
@FunctionalInterface
public interface HostCheck
{
    /**
     * Probes the host. Never throws for what the host lacks or forbids: that is a SKIPPED or INFO line.
     *
     * @param host what to read.
     * @return the report line.
     */
    CheckResult run(HostView host);
}
