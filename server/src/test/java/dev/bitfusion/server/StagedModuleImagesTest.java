package dev.bitfusion.server;

import dev.bitfusion.server.backend.CallResult;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static dev.bitfusion.cuda.CuResult.*;
import static org.junit.jupiter.api.Assertions.*;

class StagedModuleImagesTest
{
    private static final long TENANT_BYTES = 3 * StagedModuleImages.MIN_CAPACITY;

    private final HostMemoryBudget budget = new HostMemoryBudget(4 * StagedModuleImages.MIN_CAPACITY, TENANT_BYTES);
    private final HostMemoryBudget.Account account = budget.newAccount();
    private final StagedModuleImages images = new StagedModuleImages(1L << 30, account);
    private final CallResult result = new CallResult();

    @Test
    void shouldGiveBackAnImageOnlyOnceEveryByteArrived()
    {
        assertEquals(CUDA_SUCCESS, images.stage(1, 0, 8, chunk(1, 2, 3, 4), result.reset()));
        assertEquals(CUDA_SUCCESS, images.stage(1, 4, 8, chunk(5, 6, 7, 8), result.reset()));

        assertArrayEquals(new byte[]{ 1, 2, 3, 4, 5, 6, 7, 8 }, images.take(1));
        assertNull(images.take(1), "taken once");
        assertEquals(0, images.stagedBytes());
        assertEquals(8, account.heldBytes(), "a taken image stays reserved for its loader");
    }

    @Test
    void shouldGiveNothingBackForAnIncompleteImageAndForgetIt()
    {
        assertEquals(CUDA_SUCCESS, images.stage(1, 0, 8, chunk(1, 2, 3, 4), result.reset()));

        assertNull(images.take(1));
        assertEquals(0, images.stagedBytes());
        assertEquals(0, account.heldBytes());
    }

    @Test
    void shouldRefuseAnImageLargerThanAllowedBeforeTakingMemory()
    {
        final StagedModuleImages small = new StagedModuleImages(100, account);
        assertEquals(CUDA_ERROR_INVALID_VALUE, small.stage(1, 0, 101, chunk(1), result.reset()));
        assertTrue(result.message.startsWith("module image of 101 bytes refused"), result.message);
        assertEquals(CUDA_ERROR_INVALID_VALUE, small.stage(1, 0, 0, chunk(), result.reset()));
        assertEquals(CUDA_ERROR_INVALID_VALUE, small.stage(1, 0, -1, chunk(), result.reset()));
        assertEquals(0, account.heldBytes());
    }

    @Test
    void shouldHoldOnlyWhatArrivedOfAnImageThatAnnouncesAGibibyte()
    {
        assertEquals(CUDA_SUCCESS, images.stage(1, 0, 1L << 30, new UnsafeBuffer(new byte[50]), result.reset()));

        assertEquals(StagedModuleImages.MIN_CAPACITY, images.stagedBytes());
        assertEquals(StagedModuleImages.MIN_CAPACITY, account.heldBytes());
    }

    @Test
    void shouldRefuseAChunkThatSkipsAheadOrFallsOutsideTheImage()
    {
        assertEquals(CUDA_SUCCESS, images.stage(1, 0, 8, chunk(1, 2, 3, 4), result.reset()));
        assertEquals(CUDA_ERROR_INVALID_VALUE, images.stage(1, 6, 8, chunk(1), result.reset()));
        assertTrue(result.message.contains("out of order"), result.message);
        assertEquals(0, images.stagedBytes());

        assertEquals(CUDA_SUCCESS, images.stage(2, 0, 8, chunk(1, 2, 3, 4), result.reset()));
        assertEquals(CUDA_ERROR_INVALID_VALUE, images.stage(2, 4, 8, chunk(1, 2, 3, 4, 5), result.reset()));
        assertTrue(result.message.contains("runs past"), result.message);

        assertEquals(CUDA_SUCCESS, images.stage(3, 0, 8, chunk(1, 2, 3, 4), result.reset()));
        assertEquals(CUDA_ERROR_INVALID_VALUE, images.stage(3, 4, 9, chunk(1), result.reset()),
            "a chunk that names another size");
        assertEquals(CUDA_ERROR_INVALID_VALUE, images.stage(4, 1L << 40, 8, chunk(1), result.reset()));
        assertEquals(CUDA_ERROR_INVALID_VALUE, images.stage(4, -4, 8, chunk(1), result.reset()));
        assertEquals(0, account.heldBytes());
    }

    @Test
    void shouldRefuseGrowthPastTheTenantsBudgetWithOutOfMemoryAndReleaseTheImage()
    {
        final int chunkBytes = StagedModuleImages.MIN_CAPACITY;
        final long total = 4L * chunkBytes;
        assertEquals(CUDA_SUCCESS, images.stage(1, 0, total, new UnsafeBuffer(new byte[chunkBytes]), result.reset()));
        assertEquals(CUDA_SUCCESS,
            images.stage(1, chunkBytes, total, new UnsafeBuffer(new byte[chunkBytes]), result.reset()));

        assertEquals(CUDA_ERROR_OUT_OF_MEMORY,
            images.stage(1, 2L * chunkBytes, total, new UnsafeBuffer(new byte[chunkBytes]), result.reset()));
        assertTrue(result.message.contains("a session may"), result.message);
        assertEquals(0, images.stagedBytes());
        assertEquals(0, account.heldBytes());
    }

    @Test
    void shouldRefuseAnImageWhenOtherTenantsHoldTheServersCap()
    {
        final HostMemoryBudget.Account other = budget.newAccount();
        assertTrue(other.tryReserve(TENANT_BYTES));

        assertEquals(CUDA_SUCCESS, images.stage(1, 0, 8, chunk(1), result.reset()));
        assertEquals(CUDA_ERROR_OUT_OF_MEMORY,
            images.stage(2, 0, 1L << 20, new UnsafeBuffer(new byte[StagedModuleImages.MIN_CAPACITY]), result.reset()));
        assertTrue(result.message.contains("the server allows"), result.message);

        other.close();
        account.close();
        assertEquals(0, budget.heldBytes(), "closing the accounts returns everything");
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
