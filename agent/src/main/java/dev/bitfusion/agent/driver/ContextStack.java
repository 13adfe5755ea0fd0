package dev.bitfusion.agent.driver;

import java.util.Arrays;

/**
 * A thread's CUDA context stack; the top is the thread's current context (0 when none).
 * <p>
 * Thread safety: confined to its thread.
 */
final class ContextStack
{
    private long[] contexts = new long[4];
    private int size;

    long current()
    {
        return size == 0 ? 0 : contexts[size - 1];
    }

    /**
     * cuCtxSetCurrent: replace the top, or push onto an empty stack; 0 pops.
     */
    void setCurrent(final long context)
    {
        if (context == 0)
        {
            pop();
        }
        else if (size == 0)
        {
            push(context);
        }
        else
        {
            contexts[size - 1] = context;
        }
    }

    void push(final long context)
    {
        if (size == contexts.length)
        {
            contexts = Arrays.copyOf(contexts, size * 2);
        }
        contexts[size++] = context;
    }

    long pop()
    {
        return size == 0 ? 0 : contexts[--size];
    }

    /**
     * Remove a destroyed context wherever it sits in the stack.
     */
    void forget(final long context)
    {
        int kept = 0;
        for (int i = 0; i < size; i++)
        {
            if (contexts[i] != context)
            {
                contexts[kept++] = contexts[i];
            }
        }
        size = kept;
    }
}
