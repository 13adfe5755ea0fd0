package dev.bitfusion.health;

/**
 * The groups of a health report section, in the order they are printed.
 */
public enum CheckGroup
{
    SOFTWARE_VERSIONS("Software Versions"),
    SYSTEM_RESOURCES("System Resources"),
    PERFORMANCE("Performance"),
    STABILITY("Stability");

    private final String title;

    CheckGroup(final String title)
    {
        this.title = title;
    }

    /**
     * @return the title as printed in the report, e.g. "Software Versions".
     */
    public String title()
    {
        return title;
    }
}
