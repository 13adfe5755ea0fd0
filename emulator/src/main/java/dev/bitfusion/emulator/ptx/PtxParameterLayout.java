package dev.bitfusion.emulator.ptx;

/**
 * Where an entry's {@code .param} declarations lie in the packed parameter buffer cuLaunchKernel fills:
 * each at the next offset its declared alignment allows, in declaration order.
 *
 * @param offsets    offset of each parameter.
 * @param sizes      size of each parameter.
 * @param bufferSize the end of the last parameter.
 */
public record PtxParameterLayout(int[] offsets, int[] sizes, int bufferSize)
{
    /**
     * @param function an entry.
     * @return its parameter layout.
     */
    public static PtxParameterLayout of(final PtxFunction function)
    {
        final int count = function.params().size();
        final int[] offsets = new int[count];
        final int[] sizes = new int[count];
        int offset = 0;
        for (int i = 0; i < count; i++)
        {
            final PtxVariable param = function.params().get(i);
            final int alignment = Math.max(1, param.alignment());
            offset = (offset + alignment - 1) / alignment * alignment;
            offsets[i] = offset;
            sizes[i] = (int)param.sizeBytes();
            offset += sizes[i];
        }
        return new PtxParameterLayout(offsets, sizes, offset);
    }
}
