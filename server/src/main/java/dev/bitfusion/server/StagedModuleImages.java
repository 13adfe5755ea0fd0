package dev.bitfusion.server;

import dev.bitfusion.server.backend.CallResult;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2ObjectHashMap;

import static dev.bitfusion.cuda.CuResult.*;

/**
 * Module images a client sends in chunks (ModuleImageChunk) and has not loaded yet, by module handle. Both an
 * image and all images staged at once are bounded, and a bound is checked before any memory is taken, so no
 * client can exhaust the server's heap by announcing images it never completes.
 * <p>
 * Thread safety: the session's thread only.
 */
final class StagedModuleImages
{
    /** Largest module image a client may stage unless told otherwise. */
    static final long MAX_IMAGE_BYTES_DEFAULT = 1L << 30;
    /** Most bytes of images one session may have staged and not loaded unless told otherwise. */
    static final long MAX_STAGED_BYTES_DEFAULT = 1L << 30;

    private static final class StagedImage
    {
        final byte[] bytes;
        long receivedBytes;

        StagedImage(final int length)
        {
            bytes = new byte[length];
        }
    }

    private final long maxImageBytes;
    private final long maxStagedBytes;
    private final Long2ObjectHashMap<StagedImage> images = new Long2ObjectHashMap<>();
    private long stagedBytes;

    /**
     * @param maxImageBytes  the largest image, at most {@link Integer#MAX_VALUE} bytes.
     * @param maxStagedBytes the most bytes of all images staged at once.
     */
    StagedModuleImages(final long maxImageBytes, final long maxStagedBytes)
    {
        this.maxImageBytes = Math.min(maxImageBytes, Integer.MAX_VALUE);
        this.maxStagedBytes = maxStagedBytes;
    }

    /**
     * Stage one chunk; a chunk at offset 0 starts the image afresh.
     *
     * @param data   the chunk's bytes, all of the buffer.
     * @param result receives why a chunk was refused.
     * @return CUDA_SUCCESS, CUDA_ERROR_INVALID_VALUE for an image too large or a chunk outside it (the image is
     * dropped), or CUDA_ERROR_OUT_OF_MEMORY when other images staged leave no room for this one.
     */
    int stage(
        final long moduleHandle, final long byteOffset, final long totalBytes, final DirectBuffer data,
        final CallResult result)
    {
        if (totalBytes <= 0 || totalBytes > maxImageBytes)
        {
            result.message = "module image of " + totalBytes + " bytes refused";
            return CUDA_ERROR_INVALID_VALUE;
        }
        StagedImage image = images.get(moduleHandle);
        if (image == null || byteOffset == 0)
        {
            discard(moduleHandle);
            if (stagedBytes + totalBytes > maxStagedBytes)
            {
                result.message = "module image of " + totalBytes + " bytes refused: " + stagedBytes +
                    " bytes of other images are staged and not loaded";
                return CUDA_ERROR_OUT_OF_MEMORY;
            }
            image = new StagedImage((int)totalBytes);
            images.put(moduleHandle, image);
            stagedBytes += totalBytes;
        }
        final int length = data.capacity();
        if (image.bytes.length != totalBytes || byteOffset < 0 || byteOffset + length > totalBytes)
        {
            discard(moduleHandle);
            result.message = "module image chunk out of range";
            return CUDA_ERROR_INVALID_VALUE;
        }
        data.getBytes(0, image.bytes, (int)byteOffset, length);
        image.receivedBytes += length;
        return CUDA_SUCCESS;
    }

    /**
     * Hand an image over for loading; it is no longer staged either way.
     *
     * @return the whole image, or null when it is missing or some of it never arrived.
     */
    byte[] take(final long moduleHandle)
    {
        final StagedImage image = remove(moduleHandle);
        return image == null || image.receivedBytes != image.bytes.length ? null : image.bytes;
    }

    /**
     * @param moduleHandle a module whose staged image, if any, is forgotten.
     */
    void discard(final long moduleHandle)
    {
        remove(moduleHandle);
    }

    /**
     * @return bytes of images staged now.
     */
    long stagedBytes()
    {
        return stagedBytes;
    }

    void clear()
    {
        images.clear();
        stagedBytes = 0;
    }

    private StagedImage remove(final long moduleHandle)
    {
        final StagedImage image = images.remove(moduleHandle);
        if (image != null)
        {
            stagedBytes -= image.bytes.length;
        }
        return image;
    }
}
