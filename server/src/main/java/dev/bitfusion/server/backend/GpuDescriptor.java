package dev.bitfusion.server.backend;

/**
 * What a GPU is, as the server offers it: its identity, memory and CUdevice_attribute values.
 *
 * @param index                  ordinal on the server.
 * @param name                   the name cuDeviceGetName reports.
 * @param totalBytes             the card's whole memory; a slice reports its own size instead.
 * @param computeCapabilityMajor compute capability, major part.
 * @param computeCapabilityMinor compute capability, minor part.
 * @param uuid                   16 bytes, as cuDeviceGetUuid reports them.
 * @param attributeIds           CUdevice_attribute ids, in step with {@code attributeValues}.
 * @param attributeValues        their values.
 */
public record GpuDescriptor(
    int index,
    String name,
    long totalBytes,
    int computeCapabilityMajor,
    int computeCapabilityMinor,
    byte[] uuid,
    int[] attributeIds,
    int[] attributeValues)
{
}
