/*
 * Pointer attributes (cuPointerGetAttribute/s, behind cudaPointerGetAttributes) and cuMemGetAddressRange,
 * answered from what this process knows without a round trip: device allocations from the table the
 * Java side keeps, page-locked host memory from host_memory.c. Every attribute writes exactly the type
 * cuda.h documents for it: booleans and enums as unsigned int, addresses and sizes as 64-bit values.
 */
#include <stdio.h>
#include <string.h>

#include "bridge.h"
#include "jvm.h"

enum
{
    CU_POINTER_ATTRIBUTE_CONTEXT = 1,
    CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2,
    CU_POINTER_ATTRIBUTE_DEVICE_POINTER = 3,
    CU_POINTER_ATTRIBUTE_HOST_POINTER = 4,
    CU_POINTER_ATTRIBUTE_SYNC_MEMOPS = 6,
    CU_POINTER_ATTRIBUTE_IS_MANAGED = 8,
    CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL = 9,
    CU_POINTER_ATTRIBUTE_IS_LEGACY_CUDA_IPC_CAPABLE = 10,
    CU_POINTER_ATTRIBUTE_RANGE_START_ADDR = 11,
    CU_POINTER_ATTRIBUTE_RANGE_SIZE = 12,
    CU_POINTER_ATTRIBUTE_MAPPED = 13,
    CU_MEMORYTYPE_HOST = 1,
    CU_MEMORYTYPE_DEVICE = 2
};

CUresult cuCtxGetCurrent(void **context);
CUresult cuCtxGetDevice(CUdevice *device);

typedef struct
{
    int is_device;
    CUdeviceptr base;
    size_t bytes;
} pointer_info;

BF_EXPORT CUresult cuMemGetAddressRange_v2(CUdeviceptr *base, size_t *size, CUdeviceptr pointer)
{
    BF_FORWARD("cuMemGetAddressRange", "(JJJ)I", BF_PTR(base), BF_PTR(size), (jlong)pointer);
}

/* Whether the pointer is CUDA memory of this process, and which. */
static int describe(CUdeviceptr pointer, pointer_info *info)
{
    void *host_base;
    size_t host_bytes;
    if (bf_host_range((const void *)(uintptr_t)pointer, &host_base, &host_bytes))
    {
        *info = (pointer_info){ 0, (CUdeviceptr)(uintptr_t)host_base, host_bytes };
        return 1;
    }
    CUdeviceptr base = 0;
    size_t bytes = 0;
    if (cuMemGetAddressRange_v2(&base, &bytes, pointer) == CUDA_SUCCESS)
    {
        *info = (pointer_info){ 1, base, bytes };
        return 1;
    }
    return 0;
}

/* Bytes each supported attribute writes; 0 for attributes not served. */
static size_t attribute_size(int attribute)
{
    switch (attribute)
    {
        case CU_POINTER_ATTRIBUTE_CONTEXT:
        case CU_POINTER_ATTRIBUTE_DEVICE_POINTER:
        case CU_POINTER_ATTRIBUTE_HOST_POINTER:
        case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
        case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
            return 8;
        case CU_POINTER_ATTRIBUTE_MEMORY_TYPE:
        case CU_POINTER_ATTRIBUTE_SYNC_MEMOPS:
        case CU_POINTER_ATTRIBUTE_IS_MANAGED:
        case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL:
        case CU_POINTER_ATTRIBUTE_IS_LEGACY_CUDA_IPC_CAPABLE:
        case CU_POINTER_ATTRIBUTE_MAPPED:
            return 4;
        default:
            return 0;
    }
}

static CUresult unsupported_attribute(int attribute)
{
    static volatile int logged[32];
    if (attribute >= 0 && attribute < 32 && !logged[attribute])
    {
        logged[attribute] = 1;
        fprintf(stderr, "bitfusion: pointer attribute %d is not supported (CUDA_ERROR_NOT_SUPPORTED)\n", attribute);
    }
    return CUDA_ERROR_NOT_SUPPORTED;
}

static CUresult fill(void *data, int attribute, CUdeviceptr pointer, const pointer_info *info)
{
    unsigned int flag;
    switch (attribute)
    {
        case CU_POINTER_ATTRIBUTE_CONTEXT:
            return cuCtxGetCurrent((void **)data);
        case CU_POINTER_ATTRIBUTE_MEMORY_TYPE:
            flag = info->is_device ? CU_MEMORYTYPE_DEVICE : CU_MEMORYTYPE_HOST;
            memcpy(data, &flag, sizeof(flag));
            return CUDA_SUCCESS;
        case CU_POINTER_ATTRIBUTE_DEVICE_POINTER:
            /* Host memory has no device alias: a remote GPU cannot map this process's memory. */
            if (!info->is_device)
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            memcpy(data, &pointer, sizeof(pointer));
            return CUDA_SUCCESS;
        case CU_POINTER_ATTRIBUTE_HOST_POINTER:
            if (info->is_device)
            {
                return CUDA_ERROR_INVALID_VALUE;
            }
            memcpy(data, &pointer, sizeof(pointer));
            return CUDA_SUCCESS;
        case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL:
        {
            CUdevice device = 0;
            const CUresult status = cuCtxGetDevice(&device);
            if (status == CUDA_SUCCESS)
            {
                memcpy(data, &device, sizeof(device));
            }
            return status;
        }
        case CU_POINTER_ATTRIBUTE_SYNC_MEMOPS:
        case CU_POINTER_ATTRIBUTE_MAPPED:
            /* Synchronous copies always complete before they return here, and every range is backed. */
            flag = 1;
            memcpy(data, &flag, sizeof(flag));
            return CUDA_SUCCESS;
        case CU_POINTER_ATTRIBUTE_IS_MANAGED:
        case CU_POINTER_ATTRIBUTE_IS_LEGACY_CUDA_IPC_CAPABLE:
            flag = 0;
            memcpy(data, &flag, sizeof(flag));
            return CUDA_SUCCESS;
        case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
            memcpy(data, &info->base, sizeof(info->base));
            return CUDA_SUCCESS;
        case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
        {
            const unsigned long long bytes = info->bytes;
            memcpy(data, &bytes, sizeof(bytes));
            return CUDA_SUCCESS;
        }
        default:
            return unsupported_attribute(attribute);
    }
}

BF_EXPORT CUresult cuPointerGetAttribute(void *data, int attribute, CUdeviceptr pointer)
{
    if (data == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (attribute_size(attribute) == 0)
    {
        return unsupported_attribute(attribute);
    }
    pointer_info info;
    if (!describe(pointer, &info))
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    return fill(data, attribute, pointer, &info);
}

/*
 * Unlike the single form, a pointer that is not CUDA memory is no error here: every attribute is set to
 * its zero value, which cudart reports as cudaMemoryTypeUnregistered.
 */
BF_EXPORT CUresult cuPointerGetAttributes(unsigned int count, int *attributes, void **data, CUdeviceptr pointer)
{
    if (attributes == NULL || data == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    for (unsigned int i = 0; i < count; i++)
    {
        if (attribute_size(attributes[i]) == 0)
        {
            return unsupported_attribute(attributes[i]);
        }
    }
    pointer_info info;
    const int known = describe(pointer, &info);
    for (unsigned int i = 0; i < count; i++)
    {
        if (data[i] == NULL)
        {
            continue;
        }
        memset(data[i], 0, attribute_size(attributes[i]));
        if (known)
        {
            /* An attribute that does not apply (a host pointer's device alias) keeps its zero value. */
            fill(data[i], attributes[i], pointer, &info);
        }
    }
    return CUDA_SUCCESS;
}
