package dev.bitfusion.server;

import dev.bitfusion.server.backend.CallResult;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static dev.bitfusion.cuda.CuResult.*;
import static org.junit.jupiter.api.Assertions.*;

class StagedModuleImagesTest
{
    private final StagedModuleImages images = new StagedModuleImages(100, 150);
    private final CallResult result = new CallResult();

    @Test
    void shouldGiveBackAnImageOnlyOnceEveryByteArrived()
    {
        assertEquals(CUDA_SUCCESS, images.stage(1, 0, 8, chunk(1, 2, 3, 4), result.reset()));
        assertEquals(CUDA_SUCCESS, images.stage(1, 4, 8, chunk(5, 6, 7, 8), result.reset()));

        assertArrayEquals(new byte[]{ 1, 2, 3, 4, 5, 6, 7, 8 }, images.take(1));
        assertNull(images.take(1), "taken once");
        assertEquals(0, images.stagedBytes());
    }

    @Test
    void shouldGiveNothingBackForAnIncompleteImageAndForgetIt()
    {
        assertEquals(CUDA_SUCCESS, images.stage(1, 0, 8, chunk(1, 2, 3, 4), result.reset()));

        assertNull(images.take(1));
        assertEquals(0, images.stagedBytes());
    }

    @Test
    void shouldRefuseAnImageLargerThanAllowedBeforeTakingMemory()
    {
        assertEquals(CUDA_ERROR_INVALID_VALUE, images.stage(1, 0, 101, chunk(1), result.reset()));
        assertEquals("module image of 101 bytes refused", result.message);
        assertEquals(CUDA_ERROR_INVALID_VALUE, images.stage(1, 0, 0, chunk(), result.reset()));
        assertEquals(0, images.stagedBytes());
    }

    @Test
    void shouldDropAnImageWhoseChunkFallsOutsideIt()
    {
        assertEquals(CUDA_SUCCESS, images.stage(1, 0, 8, chunk(1, 2, 3, 4), result.reset()));

        assertEquals(CUDA_ERROR_INVALID_VALUE, images.stage(1, 6, 8, chunk(1, 2, 3, 4), result.reset()));
        assertEquals("module image chunk out of range", result.message);
        assertEquals(0, images.stagedBytes());
        assertEquals(CUDA_SUCCESS, images.stage(2, 0, 8, chunk(1, 2, 3, 4), result.reset()));
        assertEquals(CUDA_ERROR_INVALID_VALUE, images.stage(2, 4, 9, chunk(1), result.reset()),
            "a chunk that names another size");
    }

    @Test
    void shouldRefuseImagesPastTheStagedLimitUntilOneIsLoadedOrDiscarded()
    {
        assertEquals(CUDA_SUCCESS, images.stage(1, 0, 100, chunk(1), result.reset()));

        assertEquals(CUDA_ERROR_OUT_OF_MEMORY, images.stage(2, 0, 60, chunk(1), result.reset()));
        assertTrue(result.message.contains("100 bytes of other images are staged"), result.message);
        images.discard(1);
        assertEquals(CUDA_SUCCESS, images.stage(2, 0, 60, chunk(1), result.reset()));
        assertEquals(60, images.stagedBytes());
    }

    private static UnsafeBuffer chunk(final int... values)
    {
        final byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++)
        {
            bytes[i] = (byte)values[i];
        }
        return new UnsafeBuffer(bytes);
    }
}
