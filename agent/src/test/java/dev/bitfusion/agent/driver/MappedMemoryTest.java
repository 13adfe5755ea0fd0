package dev.bitfusion.agent.driver;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MappedMemoryTest
{
    @Test
    void shouldFindTheFirstDifferingByteAcrossWordsAndTails()
    {
        try (NativeBuffer a = NativeBuffer.allocate(37); NativeBuffer b = NativeBuffer.allocate(37))
        {
            assertEquals(37, MappedMemory.firstDifference(a.address(), b.address(), 37));

            b.putByte(35, (byte)1);
            assertEquals(35, MappedMemory.firstDifference(a.address(), b.address(), 37));

            b.putByte(9, (byte)1);
            assertEquals(9, MappedMemory.firstDifference(a.address(), b.address(), 37));
            assertEquals(9, MappedMemory.firstDifference(a.address(), b.address(), 9));
        }
    }
}
