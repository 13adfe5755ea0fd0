package dev.bitfusion.server.backend;

/**
 * A kernel's parameters as the client must pack them for cuLaunchKernel: offset and size of each.
 * <p>
 * Thread safety: owned by one session's executor.
 */
public final class ParameterLayout
{
    public int bufferSize;
    public int count;
    public int[] offsets = new int[16];
    public int[] sizes = new int[16];

    /**
     * @param count how many parameters there will be.
     */
    public void reset(final int count)
    {
        this.count = count;
        bufferSize = 0;
        if (offsets.length < count)
        {
            offsets = new int[count];
            sizes = new int[count];
        }
    }

    /**
     * @return a copy, for a reply that waits to be sent while this layout is reused.
     */
    public ParameterLayout copy()
    {
        final ParameterLayout copy = new ParameterLayout();
        copy.reset(count);
        copy.bufferSize = bufferSize;
        System.arraycopy(offsets, 0, copy.offsets, 0, count);
        System.arraycopy(sizes, 0, copy.sizes, 0, count);
        return copy;
    }
}
