package dev.bitfusion.agent.driver;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * What this client knows of one function's attributes, so that repeated queries and repeated identical
 * settings need no round trip. Libraries built on CUTLASS set the dynamic shared memory limit before every
 * launch, and the runtime's occupancy calculator and cudaFuncGetAttributes read several attributes per
 * call: answered from here, a kernel's launches stay asynchronous.
 * <p>
 * A function's attributes change only through cuFuncSetAttribute on its own handle, which only this client
 * holds, so what the server answered stays true until this client sets something: every setting forgets
 * the answers, since one attribute (a cluster shape, the shared memory carve-out) can bear on another.
 * <p>
 * Thread safety: lookups are lock free; filling in and setting synchronise on this object so that an
 * answer read before a setting is never kept after it.
 */
final class FunctionAttributes
{
    /** CU_FUNC_ATTRIBUTE_MAX in CUDA 13: attributes at or past it are always asked of the server. */
    static final int ATTRIBUTE_COUNT = 16;
    static final int UNKNOWN = Integer.MIN_VALUE;
    private static final int MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

    private final AtomicIntegerArray answers = new AtomicIntegerArray(ATTRIBUTE_COUNT);
    private final AtomicIntegerArray settings = new AtomicIntegerArray(ATTRIBUTE_COUNT);
    private int generation;

    FunctionAttributes()
    {
        for (int i = 0; i < ATTRIBUTE_COUNT; i++)
        {
            answers.set(i, UNKNOWN);
            settings.set(i, UNKNOWN);
        }
    }

    /**
     * @return the attribute's value as the server last answered it, or {@link #UNKNOWN}.
     */
    int answer(final int attribute)
    {
        return isCached(attribute) ? answers.get(attribute) : UNKNOWN;
    }

    /**
     * The generation to hand back to {@link #remember}: taken before asking the server, so an answer that
     * a concurrent setting may have outdated is dropped.
     */
    synchronized int generation()
    {
        return generation;
    }

    synchronized void remember(final int attribute, final int value, final int askedInGeneration)
    {
        if (isCached(attribute) && askedInGeneration == generation && value != UNKNOWN)
        {
            answers.set(attribute, value);
        }
    }

    /**
     * @return whether the attribute was last set to this value by this client: setting it again changes
     * nothing on the GPU.
     */
    boolean isAlreadySet(final int attribute, final int value)
    {
        return isCached(attribute) && value != UNKNOWN && settings.get(attribute) == value;
    }

    /**
     * @return whether a launch asks for more dynamic shared memory than the limit this client set, which the
     * driver refuses at launch (CUDA_ERROR_INVALID_VALUE); false where no limit was set here, and the server
     * judges the launch.
     */
    boolean exceedsDynamicSharedLimit(final int sharedMemBytes)
    {
        final int limit = settings.get(MAX_DYNAMIC_SHARED_SIZE_BYTES);
        return limit != UNKNOWN && sharedMemBytes > limit;
    }

    /**
     * Forgets every answer; to be called, holding this object's monitor, before the setting is sent, then
     * {@link #settled} with its outcome.
     */
    void settingStarts()
    {
        generation++;
        for (int i = 0; i < ATTRIBUTE_COUNT; i++)
        {
            answers.set(i, UNKNOWN);
        }
    }

    /**
     * @param applied whether the server applied the setting; when it did not, what the attribute holds is
     *                not known here any more.
     */
    void settled(final int attribute, final int value, final boolean applied)
    {
        if (isCached(attribute))
        {
            settings.set(attribute, applied ? value : UNKNOWN);
        }
    }

    private static boolean isCached(final int attribute)
    {
        return attribute >= 0 && attribute < ATTRIBUTE_COUNT;
    }
}
