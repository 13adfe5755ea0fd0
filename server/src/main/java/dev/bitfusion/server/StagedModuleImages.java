package dev.bitfusion.server;

import dev.bitfusion.server.backend.CallResult;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;

import java.util.Arrays;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Module images a client sends in chunks (ModuleImageChunk) and has not loaded yet, by module handle.
 * <p>
 * The memory behind an image grows with the bytes that arrived, never with the size a chunk announces: a
 * chunk of 50 bytes announcing 1 GiB costs {@link #MIN_CAPACITY} bytes. Chunks come in order (the client's
 * request stream is ordered, and it sends each image from its first byte to its last), so a chunk that skips
 * ahead is refused rather than paid for. Every byte held is reserved from the tenant's {@link
 * HostMemoryBudget.Account} before it is allocated: past the tenant's budget or the server's cap, the image is
 * dropped and the chunk refused with CUDA_ERROR_OUT_OF_MEMORY.
 * <p>
 * An image handed over by {@link #take} stays reserved on the account: its loader keeps the reservation while
 * the module is loaded, or releases it.
 * <p>
 * Thread safety: the session's thread only.
 */
final class StagedModuleImages
{
    /** Largest module image a client may stage unless told otherwise. */
    static final long MAX_IMAGE_BYTES_DEFAULT = 1L << 30;
    /** The first allocation of an image, whatever it announces: most images are smaller. */
    static final int MIN_CAPACITY = 64 * 1024;

    private static final class StagedImage
    {
        final int totalBytes;
        byte[] bytes;
        int receivedBytes;

        StagedImage(final int totalBytes, final byte[] bytes)
        {
            this.totalBytes = totalBytes;
            this.bytes = bytes;
        }
    }

    private final long maxImageBytes;
    private final HostMemoryBudget.Account account;
    private final Long2ObjectHashMap<StagedImage> images = new Long2ObjectHashMap<>();
    private long stagedBytes;

    /**
     * @param maxImageBytes the largest image, at most {@link Integer#MAX_VALUE} bytes.
     * @param account       the tenant's share of the server's host memory, which every byte staged is taken from.
     */
    StagedModuleImages(final long maxImageBytes, final HostMemoryBudget.Account account)
    {
        this.maxImageBytes = Math.min(maxImageBytes, Integer.MAX_VALUE - 8);
        this.account = account;
    }

    /**
     * Stage one chunk; a chunk at offset 0 starts the image afresh.
     *
     * @param data   the chunk's bytes, all of the buffer.
     * @param result receives why a chunk was refused.
     * @return CUDA_SUCCESS, CUDA_ERROR_INVALID_VALUE for an image too large or a chunk out of order or outside it,
     * or CUDA_ERROR_OUT_OF_MEMORY when the tenant's budget or the server's cap leaves no room for it; the image
     * is dropped on any error.
     */
    int stage(
        final long moduleHandle, final long byteOffset, final long totalBytes, final DirectBuffer data,
        final CallResult result)
    {
        if (totalBytes <= 0 || totalBytes > maxImageBytes)
        {
            discard(moduleHandle);
            result.message = "module image of " + totalBytes + " bytes refused: images are 1 to " + maxImageBytes +
                " bytes";
            return CUDA_ERROR_INVALID_VALUE;
        }
        StagedImage image = images.get(moduleHandle);
        if (byteOffset == 0)
        {
            discard(moduleHandle);
            image = null;
        }
        final int length = data.capacity();
        if (image == null ? byteOffset != 0 : byteOffset != image.receivedBytes || totalBytes != image.totalBytes)
        {
            discard(moduleHandle);
            result.message = "module image chunk at " + byteOffset + " of " + totalBytes + " bytes is out of order";
            return CUDA_ERROR_INVALID_VALUE;
        }
        if (length > totalBytes - byteOffset)
        {
            discard(moduleHandle);
            result.message = "module image chunk of " + length + " bytes at " + byteOffset + " runs past the image's " +
                totalBytes + " bytes";
            return CUDA_ERROR_INVALID_VALUE;
        }
        final int needed = (int)byteOffset + length;
        if (image == null)
        {
            final int capacity = (int)Math.min(totalBytes, Math.max(needed, MIN_CAPACITY));
            if (!account.tryReserve(capacity))
            {
                result.message = "module image refused: it " + account.refusal(capacity);
                return CUDA_ERROR_OUT_OF_MEMORY;
            }
            image = new StagedImage((int)totalBytes, new byte[capacity]);
            images.put(moduleHandle, image);
            stagedBytes += capacity;
        }
        else if (needed > image.bytes.length && !grow(moduleHandle, image, needed, result))
        {
            return CUDA_ERROR_OUT_OF_MEMORY;
        }
        data.getBytes(0, image.bytes, (int)byteOffset, length);
        image.receivedBytes = needed;
        return CUDA_SUCCESS;
    }

    /**
     * Hand an image over for loading; it is no longer staged either way, but its bytes stay reserved on the
     * account when it is returned.
     *
     * @return the whole image, or null when it is missing or some of it never arrived.
     */
    byte[] take(final long moduleHandle)
    {
        final StagedImage image = images.remove(moduleHandle);
        if (image == null)
        {
            return null;
        }
        stagedBytes -= image.bytes.length;
        if (image.receivedBytes != image.totalBytes || image.bytes.length != image.totalBytes)
        {
            account.release(image.bytes.length);
            return null;
        }
        return image.bytes;
    }

    /**
     * @param moduleHandle a module whose staged image, if any, is forgotten.
     */
    void discard(final long moduleHandle)
    {
        final StagedImage image = images.remove(moduleHandle);
        if (image != null)
        {
            stagedBytes -= image.bytes.length;
            account.release(image.bytes.length);
        }
    }

    /**
     * @return bytes held for images staged now.
     */
    long stagedBytes()
    {
        return stagedBytes;
    }

    /**
     * Forget every staged image and release its bytes.
     */
    void clear()
    {
        account.release(stagedBytes);
        images.clear();
        stagedBytes = 0;
    }

    /**
     * Double the image's memory, at most to its size; while the bytes are copied both copies are held, and
     * reserved.
     */
    private boolean grow(final long moduleHandle, final StagedImage image, final int needed, final CallResult result)
    {
        final int oldCapacity = image.bytes.length;
        final int capacity = (int)Math.min(image.totalBytes, Math.max(needed, 2L * oldCapacity));
        if (!account.tryReserve(capacity))
        {
            result.message = "module image refused: it " + account.refusal(capacity);
            discard(moduleHandle);
            return false;
        }
        image.bytes = Arrays.copyOf(image.bytes, capacity);
        account.release(oldCapacity);
        stagedBytes += capacity - oldCapacity;
        return true;
    }
}
