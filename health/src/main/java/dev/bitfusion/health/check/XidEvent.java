package dev.bitfusion.health.check;

/**
 * One NVIDIA Xid error as the driver logs it: {@code NVRM: Xid (PCI:0000:3b:00): 79, pid=..., ...}.
 *
 * @param pciAddress the GPU's bus address as logged, e.g. "PCI:0000:3b:00".
 * @param code       the Xid number.
 */
public record XidEvent(String pciAddress, int code)
{
}
