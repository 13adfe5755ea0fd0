package dev.bitfusion.health.server;

/**
 * Whether a GPU's memory is ECC protected.
 */
public enum EccState
{
    ENABLED,
    DISABLED,
    UNSUPPORTED,
    UNKNOWN
}
