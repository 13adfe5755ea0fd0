/*
 * Pitched memory: cuMemAllocPitch, 2D copies and 2D memsets. Copies go to NativeDriver.cuMemcpy2D, which
 * reads the CUDA_MEMCPY2D descriptor (its unified-addressing cases need the client's allocation table);
 * memsets are split into one row each here, or one call when the rows are contiguous.
 */
#include "jvm.h"

typedef void *CUstream;

/* Rows of pitched allocations start on this boundary, as on the GPUs the emulator models. */
#define PITCH_ALIGNMENT 512

BF_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes);
BF_EXPORT CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t count, CUstream stream);
BF_EXPORT CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short value, size_t count, CUstream stream);
BF_EXPORT CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int value, size_t count, CUstream stream);

BF_EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr *pointer, size_t *pitch, size_t widthBytes, size_t height,
    unsigned int elementSizeBytes)
{
    if (pointer == NULL || pitch == NULL || widthBytes == 0 || height == 0 ||
        (elementSizeBytes != 4 && elementSizeBytes != 8 && elementSizeBytes != 16))
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    const size_t rounded = (widthBytes + PITCH_ALIGNMENT - 1) / PITCH_ALIGNMENT * PITCH_ALIGNMENT;
    const CUresult status = cuMemAlloc_v2(pointer, rounded * height);
    if (status == CUDA_SUCCESS)
    {
        *pitch = rounded;
    }
    return status;
}

/* The descriptor is read on the Java side; synchronous copies wait for device-to-host rows there. */
static CUresult memcpy_2d(const void *copy, CUstream stream, int synchronous)
{
    if (copy == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    BF_FORWARD("cuMemcpy2D", "(JJZ)I", BF_PTR(copy), BF_PTR(stream), (jboolean)(synchronous != 0));
}

BF_EXPORT CUresult cuMemcpy2D_v2(const void *copy)
{
    return memcpy_2d(copy, NULL, 1);
}

BF_EXPORT CUresult cuMemcpy2DUnaligned_v2(const void *copy)
{
    return memcpy_2d(copy, NULL, 1);
}

BF_EXPORT CUresult cuMemcpy2DAsync_v2(const void *copy, CUstream stream)
{
    return memcpy_2d(copy, stream, 0);
}

BF_EXPORT CUresult cuMemcpy2D_v2_ptds(const void *copy) { return cuMemcpy2D_v2(copy); }
BF_EXPORT CUresult cuMemcpy2DUnaligned_v2_ptds(const void *copy) { return cuMemcpy2DUnaligned_v2(copy); }
BF_EXPORT CUresult cuMemcpy2DAsync_v2_ptsz(const void *copy, CUstream stream) { return cuMemcpy2DAsync_v2(copy, stream); }

/* One memset per row, or one for the whole block when the rows leave no gaps. */
#define BF_MEMSET_2D(bits, type)                                                                    \
    BF_EXPORT CUresult cuMemsetD2D##bits##Async(CUdeviceptr dst, size_t pitch, type value, size_t width, \
        size_t height, CUstream stream)                                                             \
    {                                                                                               \
        if (pitch < width * sizeof(type))                                                           \
        {                                                                                           \
            return CUDA_ERROR_INVALID_VALUE;                                                        \
        }                                                                                           \
        if (pitch == width * sizeof(type))                                                          \
        {                                                                                           \
            return cuMemsetD##bits##Async(dst, value, width * height, stream);                      \
        }                                                                                           \
        for (size_t row = 0; row < height; row++)                                                   \
        {                                                                                           \
            const CUresult status = cuMemsetD##bits##Async(dst + row * pitch, value, width, stream);\
            if (status != CUDA_SUCCESS)                                                             \
            {                                                                                       \
                return status;                                                                      \
            }                                                                                       \
        }                                                                                           \
        return CUDA_SUCCESS;                                                                        \
    }                                                                                               \
    BF_EXPORT CUresult cuMemsetD2D##bits##_v2(CUdeviceptr dst, size_t pitch, type value, size_t width, size_t height) \
    {                                                                                               \
        return cuMemsetD2D##bits##Async(dst, pitch, value, width, height, NULL);                    \
    }                                                                                               \
    BF_EXPORT CUresult cuMemsetD2D##bits##_v2_ptds(CUdeviceptr dst, size_t pitch, type value, size_t width, size_t height) \
    {                                                                                               \
        return cuMemsetD2D##bits##_v2(dst, pitch, value, width, height);                            \
    }                                                                                               \
    BF_EXPORT CUresult cuMemsetD2D##bits##Async_ptsz(CUdeviceptr dst, size_t pitch, type value, size_t width, \
        size_t height, CUstream stream)                                                             \
    {                                                                                               \
        return cuMemsetD2D##bits##Async(dst, pitch, value, width, height, stream);                  \
    }

BF_MEMSET_2D(8, unsigned char)
BF_MEMSET_2D(16, unsigned short)
BF_MEMSET_2D(32, unsigned int)
