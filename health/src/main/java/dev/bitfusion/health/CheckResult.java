package dev.bitfusion.health;

import java.util.Objects;

/**
 * One line of a health report: {@code [STATUS  ] Check name: detail}.
 * <p>
 * Immutable, so results may be built on a server and shipped to a client unchanged.
 *
 * @param group  the report group the check belongs to.
 * @param name   what is checked, with its threshold where there is one, e.g. "ulimit -n >= 4096".
 *               The report prefixes "Check ".
 * @param status the outcome.
 * @param detail the measured value or the reason, one line, for a person.
 */
public record CheckResult(CheckGroup group, String name, HealthStatus status, String detail)
{
    /**
     * Validates the fields.
     *
     * @param group  the report group the check belongs to.
     * @param name   what is checked.
     * @param status the outcome.
     * @param detail the measured value or the reason.
     */
    public CheckResult
    {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(detail, "detail");
    }
}
