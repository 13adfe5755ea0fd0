package dev.bitfusion.agent.driver;

/**
 * A CUlaunchConfig as the program laid it out (cuLaunchKernelEx, the cluster occupancy queries), read in
 * place: the launch's shape, stream and attributes.
 * <pre>
 *   0 gridDimX  4 gridDimY  8 gridDimZ  12 blockDimX  16 blockDimY  20 blockDimZ  24 sharedMemBytes
 *  32 hStream  40 attrs  48 numAttrs
 * attribute (72 bytes): 0 id, 8 value (64-byte union: cluster x y z, cooperative int, ...)
 * </pre>
 * Thread safety: a flyweight for one thread.
 */
final class LaunchConfig
{
    static final int CU_LAUNCH_ATTRIBUTE_COOPERATIVE = 2;
    static final int CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4;
    static final int CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT = 7;
    static final int CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT = 12;
    static final int CU_LAUNCH_ATTRIBUTE_DEVICE_UPDATABLE_KERNEL_NODE = 13;

    private static final int SHARED_MEM_OFFSET = 24;
    private static final int STREAM_OFFSET = 32;
    private static final int ATTRIBUTES_OFFSET = 40;
    private static final int ATTRIBUTE_COUNT_OFFSET = 48;
    private static final int ATTRIBUTE_BYTES = 72;
    private static final int ATTRIBUTE_VALUE_OFFSET = 8;

    private long address;

    LaunchConfig wrap(final long address)
    {
        this.address = address;
        return this;
    }

    /**
     * @return false when the config or its attribute array is missing.
     */
    boolean isValid()
    {
        return address != 0 && (attributeCount() == 0 || NativeMemory.getLong(address + ATTRIBUTES_OFFSET) != 0);
    }

    int grid(final int dimension)
    {
        return NativeMemory.getInt(address + (long)dimension * Integer.BYTES);
    }

    int block(final int dimension)
    {
        return NativeMemory.getInt(address + 12 + (long)dimension * Integer.BYTES);
    }

    int sharedMemBytes()
    {
        return NativeMemory.getInt(address + SHARED_MEM_OFFSET);
    }

    long stream()
    {
        return NativeMemory.getLong(address + STREAM_OFFSET);
    }

    int attributeCount()
    {
        return NativeMemory.getInt(address + ATTRIBUTE_COUNT_OFFSET);
    }

    int attributeId(final int index)
    {
        return NativeMemory.getInt(attribute(index));
    }

    /**
     * @return the index-th int of the attribute's value: the cluster's x, y, z, or a flag.
     */
    int attributeValue(final int index, final int word)
    {
        return NativeMemory.getInt(attribute(index) + ATTRIBUTE_VALUE_OFFSET + (long)word * Integer.BYTES);
    }

    /**
     * @param cluster receives the CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION shape, zeros when none is given.
     */
    void cluster(final int[] cluster)
    {
        cluster[0] = 0;
        cluster[1] = 0;
        cluster[2] = 0;
        for (int i = 0; i < attributeCount(); i++)
        {
            if (attributeId(i) == CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)
            {
                cluster[0] = attributeValue(i, 0);
                cluster[1] = attributeValue(i, 1);
                cluster[2] = attributeValue(i, 2);
            }
        }
    }

    private long attribute(final int index)
    {
        return NativeMemory.getLong(address + ATTRIBUTES_OFFSET) + (long)index * ATTRIBUTE_BYTES;
    }
}
