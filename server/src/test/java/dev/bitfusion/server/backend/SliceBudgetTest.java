package dev.bitfusion.server.backend;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SliceBudgetTest
{
    @Test
    void shouldHoldNoMoreThanTheSliceWhateverTheSessionsTake()
    {
        final SliceBudget budget = new SliceBudget(1000);
        assertTrue(budget.tryTake(600));
        assertFalse(budget.tryTake(401));
        assertEquals(600, budget.heldBytes(), "a refusal takes nothing");
        assertTrue(budget.tryTake(400));
        budget.give(600);
        assertTrue(budget.tryTake(600));
        assertEquals(1000, budget.heldBytes());
    }

    @Test
    void shouldLetSessionsOnManyThreadsTogetherTakeExactlyTheSlice() throws InterruptedException
    {
        final SliceBudget budget = new SliceBudget(10_000);
        final AtomicInteger granted = new AtomicInteger();
        final CountDownLatch start = new CountDownLatch(1);
        final Thread[] threads = new Thread[8];
        for (int i = 0; i < threads.length; i++)
        {
            threads[i] = new Thread(() ->
            {
                try
                {
                    start.await();
                }
                catch (final InterruptedException ex)
                {
                    return;
                }
                for (int j = 0; j < 1000; j++)
                {
                    if (budget.tryTake(7))
                    {
                        granted.incrementAndGet();
                    }
                }
            });
            threads[i].start();
        }
        start.countDown();
        for (final Thread thread : threads)
        {
            thread.join();
        }

        assertEquals(10_000 / 7, granted.get());
        assertEquals(10_000 / 7 * 7, budget.heldBytes());
    }
}
