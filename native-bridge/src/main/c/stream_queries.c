/*
 * Questions runtimes and frameworks ask about streams and devices before they launch anything: whether a
 * stream is being captured into a graph, the range of stream priorities, a device's PCI bus id, how many
 * blocks of a kernel fit on a multiprocessor, and what a stream was created with. Graph capture is not
 * supported (cuStreamBeginCapture returns CUDA_ERROR_NOT_SUPPORTED), so no stream is ever capturing;
 * streams have one priority level.
 */
#include <stdio.h>

#include "bridge.h"
#include "jvm.h"

typedef void *CUstream;
typedef void *CUfunction;

#define CU_STREAM_CAPTURE_STATUS_NONE 0
#define CU_DEVICE_ATTRIBUTE_PCI_BUS_ID 33
#define CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID 34
#define CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID 50

CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice device);
CUresult cuCtxGetCurrent(void **context);

BF_EXPORT CUresult cuStreamIsCapturing(CUstream stream, int *status)
{
    if (status == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *status = CU_STREAM_CAPTURE_STATUS_NONE;
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuStreamIsCapturing_ptsz(CUstream stream, int *status)
{
    return cuStreamIsCapturing(stream, status);
}

BF_EXPORT CUresult cuStreamGetCaptureInfo(CUstream stream, int *status, unsigned long long *id)
{
    if (status == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *status = CU_STREAM_CAPTURE_STATUS_NONE;
    if (id != NULL)
    {
        *id = 0;
    }
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuStreamGetCaptureInfo_ptsz(CUstream stream, int *status, unsigned long long *id)
{
    return cuStreamGetCaptureInfo(stream, status, id);
}

BF_EXPORT CUresult cuStreamGetCaptureInfo_v2(
    CUstream stream, int *status, unsigned long long *id, void **graph, const void ***dependencies,
    size_t *dependencyCount)
{
    const CUresult result = cuStreamGetCaptureInfo(stream, status, id);
    if (result == CUDA_SUCCESS)
    {
        /* Graph, dependencies and their count are only defined while capturing; cleared for safety. */
        if (graph != NULL)
        {
            *graph = NULL;
        }
        if (dependencies != NULL)
        {
            *dependencies = NULL;
        }
        if (dependencyCount != NULL)
        {
            *dependencyCount = 0;
        }
    }
    return result;
}

BF_EXPORT CUresult cuStreamGetCaptureInfo_v2_ptsz(
    CUstream stream, int *status, unsigned long long *id, void **graph, const void ***dependencies,
    size_t *dependencyCount)
{
    return cuStreamGetCaptureInfo_v2(stream, status, id, graph, dependencies, dependencyCount);
}

BF_EXPORT CUresult cuStreamGetCaptureInfo_v3(
    CUstream stream, int *status, unsigned long long *id, void **graph, const void ***dependencies,
    const void **edgeData, size_t *dependencyCount)
{
    if (edgeData != NULL)
    {
        *edgeData = NULL;
    }
    return cuStreamGetCaptureInfo_v2(stream, status, id, graph, dependencies, dependencyCount);
}

BF_EXPORT CUresult cuStreamGetCaptureInfo_v3_ptsz(
    CUstream stream, int *status, unsigned long long *id, void **graph, const void ***dependencies,
    const void **edgeData, size_t *dependencyCount)
{
    return cuStreamGetCaptureInfo_v3(stream, status, id, graph, dependencies, edgeData, dependencyCount);
}

BF_EXPORT CUresult cuCtxGetStreamPriorityRange(int *leastPriority, int *greatestPriority)
{
    if (leastPriority != NULL)
    {
        *leastPriority = 0;
    }
    if (greatestPriority != NULL)
    {
        *greatestPriority = 0;
    }
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuStreamGetPriority(CUstream stream, int *priority)
{
    if (priority == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *priority = 0;
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuStreamGetPriority_ptsz(CUstream stream, int *priority)
{
    return cuStreamGetPriority(stream, priority);
}

BF_EXPORT CUresult cuDeviceGetPCIBusId(char *pciBusId, int length, CUdevice device)
{
    int domain = 0;
    int bus = 0;
    int slot = 0;
    if (pciBusId == NULL || length <= 0)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    CUresult status = cuDeviceGetAttribute(&domain, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, device);
    if (status == CUDA_SUCCESS)
    {
        status = cuDeviceGetAttribute(&bus, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, device);
    }
    if (status == CUDA_SUCCESS)
    {
        status = cuDeviceGetAttribute(&slot, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, device);
    }
    if (status == CUDA_SUCCESS)
    {
        snprintf(pciBusId, (size_t)length, "%08X:%02X:%02X.0", domain, bus, slot);
    }
    return status;
}

BF_EXPORT CUresult cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(
    int *blocks, CUfunction function, int blockSize, size_t dynamicSharedMemory, unsigned int flags)
{
    BF_FORWARD("cuOccupancyMaxActiveBlocksPerMultiprocessor", "(JJIJI)I",
        BF_PTR(blocks), BF_PTR(function), (jint)blockSize, (jlong)dynamicSharedMemory, (jint)flags);
}

BF_EXPORT CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(
    int *blocks, CUfunction function, int blockSize, size_t dynamicSharedMemory)
{
    return cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(blocks, function, blockSize, dynamicSharedMemory, 0);
}

/* What a stream was created with, answered by the Java side without a round trip. */
static CUresult stream_query(CUstream stream, jlong what, void *answer, jlong size)
{
    BF_FORWARD("streamQuery", "(JJJJ)I", BF_PTR(stream), what, BF_PTR(answer), size);
}

BF_EXPORT CUresult cuStreamGetCtx(CUstream stream, void **context)
{
    return stream_query(stream, 0, context, 8);
}

BF_EXPORT CUresult cuStreamGetDevice(CUstream stream, CUdevice *device)
{
    return stream_query(stream, 1, device, 4);
}

BF_EXPORT CUresult cuStreamGetFlags(CUstream stream, unsigned int *flags)
{
    return stream_query(stream, 2, flags, 4);
}

BF_EXPORT CUresult cuStreamGetId(CUstream stream, unsigned long long *id)
{
    return stream_query(stream, 3, id, 8);
}

BF_EXPORT CUresult cuStreamGetCtx_ptsz(CUstream stream, void **context)
{
    return cuStreamGetCtx(stream == NULL ? (CUstream)0x2 : stream, context);
}

BF_EXPORT CUresult cuStreamGetDevice_ptsz(CUstream stream, CUdevice *device)
{
    return cuStreamGetDevice(stream == NULL ? (CUstream)0x2 : stream, device);
}

BF_EXPORT CUresult cuStreamGetFlags_ptsz(CUstream stream, unsigned int *flags)
{
    return cuStreamGetFlags(stream == NULL ? (CUstream)0x2 : stream, flags);
}

BF_EXPORT CUresult cuStreamGetId_ptsz(CUstream stream, unsigned long long *id)
{
    return cuStreamGetId(stream == NULL ? (CUstream)0x2 : stream, id);
}

/* A context's unique id: its handle, which is never reused while the process runs. */
BF_EXPORT CUresult cuCtxGetId(void *context, unsigned long long *id)
{
    if (id == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (context == NULL)
    {
        CUresult status = cuCtxGetCurrent(&context);
        if (status != CUDA_SUCCESS || context == NULL)
        {
            return status != CUDA_SUCCESS ? status : CUDA_ERROR_INVALID_CONTEXT;
        }
    }
    *id = (unsigned long long)(size_t)context;
    return CUDA_SUCCESS;
}
