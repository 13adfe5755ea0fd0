package dev.bitfusion.agent.wire;

/**
 * A remote GPU as its slice presents it to the program.
 *
 * @param name                   the device name.
 * @param totalBytes             the slice's memory: what cuDeviceTotalMem and cuMemGetInfo report.
 * @param computeCapabilityMajor compute capability, major.
 * @param computeCapabilityMinor compute capability, minor.
 * @param uuid                   16 bytes.
 * @param attributeIds           CUdevice_attribute ids.
 * @param attributeValues        their values.
 * @param requestStreamId        the session's request stream on the server.
 */
public record DeviceInfo(
    String name,
    long totalBytes,
    int computeCapabilityMajor,
    int computeCapabilityMinor,
    byte[] uuid,
    int[] attributeIds,
    int[] attributeValues,
    int requestStreamId)
{
    /**
     * @param attribute a CUdevice_attribute.
     * @return its value, or Integer.MIN_VALUE when the server did not report it.
     */
    public int attribute(final int attribute)
    {
        for (int i = 0; i < attributeIds.length; i++)
        {
            if (attributeIds[i] == attribute)
            {
                return attributeValues[i];
            }
        }
        return Integer.MIN_VALUE;
    }
}
