package dev.bitfusion.agent.driver;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ContextStackTest
{
    @Test
    void shouldBehaveAsCudasPerThreadContextStack()
    {
        final ContextStack stack = new ContextStack();
        assertEquals(0, stack.current());
        stack.setCurrent(10);
        assertEquals(10, stack.current());
        stack.push(20);
        stack.push(30);
        stack.setCurrent(31);
        assertEquals(31, stack.current());
        assertEquals(31, stack.pop());
        assertEquals(20, stack.current());
        stack.setCurrent(0);
        assertEquals(10, stack.current());
    }

    @Test
    void shouldForgetADestroyedContextWhereverItIs()
    {
        final ContextStack stack = new ContextStack();
        for (int i = 1; i <= 6; i++)
        {
            stack.push(i % 2 == 0 ? 99 : i);
        }
        stack.forget(99);
        assertEquals(5, stack.pop());
        assertEquals(3, stack.pop());
        assertEquals(1, stack.pop());
        assertEquals(0, stack.pop());
    }
}
