package dev.bitfusion.agent.driver;

import org.agrona.BufferUtil;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.*;

class NativeModuleImageTest
{
    @Test
    void shouldKeepACopyOfTheProgramsImageUntilTheLastReferenceGoes()
    {
        final ByteBuffer program = ByteBuffer.allocateDirect(64);
        for (int i = 0; i < 64; i++)
        {
            program.put(i, (byte)i);
        }
        final NativeModuleImage image = NativeModuleImage.copyOf(BufferUtil.address(program), 64);
        program.put(0, (byte)99);
        final byte[] bytes = image.bytes();
        assertEquals(64, bytes.length);
        assertEquals(0, bytes[0], "a copy, not a view of memory the program may reuse");
        assertEquals(63, bytes[63]);

        image.retain();
        image.release();
        assertEquals(1, image.bytes()[1], "still held by its maker");
        image.close();
        assertThrows(IllegalStateException.class, image::retain, "freed when its maker lets it go");
    }
}
