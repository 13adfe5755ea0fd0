/*
 * The driver functions the bridge implements: each one forwards to NativeDriver (and so to the agent's
 * RemoteDriver) or is answered here when no JVM is needed. Per-thread-default-stream variants
 * (_ptds/_ptsz) share the implementation: RemoteDriver orders a thread's default-stream work itself.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jvm.h"

#define DRIVER_VERSION 13000
#define FATBIN_MAGIC 0xba55ed50u
#define FATBIN_WRAPPER_MAGIC 0x466243b1u
#define ELF_MAGIC 0x464c457fu

typedef void *CUcontext;
typedef void *CUmodule;
typedef void *CUfunction;
typedef void *CUstream;
typedef void *CUevent;

/* Same pointer or value, exported under the ABI name and its per-thread-default-stream twin. */
#define BF_TWIN(suffix, ret, name, params, args) \
    BF_EXPORT ret name##suffix params { return name args; }

/* ---------------------------------------------------------------- images */

typedef struct
{
    unsigned int magic;
    unsigned short version;
    unsigned short header_size;
    unsigned long long fat_size;
} fatbin_header;

/* How many bytes an image given by pointer alone spans: fatbins and ELF cubins say so, PTX is text. */
static size_t image_size(const void **image)
{
    const unsigned int magic = *(const unsigned int *)*image;
    if (magic == FATBIN_WRAPPER_MAGIC)
    {
        *image = ((const void *const *)*image)[1];
        return image_size(image);
    }
    if (magic == FATBIN_MAGIC)
    {
        const fatbin_header *header = (const fatbin_header *)*image;
        return header->header_size + header->fat_size;
    }
    if (magic == ELF_MAGIC)
    {
        const unsigned char *elf = (const unsigned char *)*image;
        const unsigned long long section_offset = *(const unsigned long long *)(elf + 0x28);
        const unsigned short section_size = *(const unsigned short *)(elf + 0x3a);
        const unsigned short sections = *(const unsigned short *)(elf + 0x3c);
        const unsigned long long program_offset = *(const unsigned long long *)(elf + 0x20);
        const unsigned short program_size = *(const unsigned short *)(elf + 0x36);
        const unsigned short programs = *(const unsigned short *)(elf + 0x38);
        const unsigned long long sections_end = section_offset + (unsigned long long)section_size * sections;
        const unsigned long long programs_end = program_offset + (unsigned long long)program_size * programs;
        return sections_end > programs_end ? sections_end : programs_end;
    }
    return strlen((const char *)*image) + 1;
}

/* ---------------------------------------------------------------- initialisation and devices */

BF_EXPORT CUresult cuDriverGetVersion(int *driverVersion)
{
    if (driverVersion == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *driverVersion = DRIVER_VERSION;
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuInit(unsigned int flags)
{
    BF_FORWARD("cuInit", "(J)I", (jlong)flags);
}

BF_EXPORT CUresult cuDeviceGetCount(int *count)
{
    BF_FORWARD("cuDeviceGetCount", "(J)I", BF_PTR(count));
}

BF_EXPORT CUresult cuDeviceGet(CUdevice *device, int ordinal)
{
    BF_FORWARD("cuDeviceGet", "(JJ)I", BF_PTR(device), (jlong)ordinal);
}

BF_EXPORT CUresult cuDeviceGetName(char *name, int length, CUdevice device)
{
    BF_FORWARD("cuDeviceGetName", "(JJJ)I", BF_PTR(name), (jlong)length, (jlong)device);
}

BF_EXPORT CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice device)
{
    BF_FORWARD("cuDeviceTotalMem", "(JJ)I", BF_PTR(bytes), (jlong)device);
}

BF_EXPORT CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice device)
{
    BF_FORWARD("cuDeviceGetAttribute", "(JJJ)I", BF_PTR(value), (jlong)attribute, (jlong)device);
}

BF_EXPORT CUresult cuDeviceGetUuid(unsigned char *uuid, CUdevice device)
{
    BF_FORWARD("cuDeviceGetUuid", "(JJ)I", BF_PTR(uuid), (jlong)device);
}

BF_EXPORT CUresult cuDeviceGetUuid_v2(unsigned char *uuid, CUdevice device)
{
    return cuDeviceGetUuid(uuid, device);
}

BF_EXPORT CUresult cuDeviceGetLuid(char *luid, unsigned int *deviceNodeMask, CUdevice device)
{
    /* LUIDs are a Windows notion; Linux drivers answer with zeros too. */
    (void)device;
    if (luid == NULL || deviceNodeMask == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    memset(luid, 0, 8);
    *deviceNodeMask = 0;
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuDeviceComputeCapability(int *major, int *minor, CUdevice device)
{
    BF_FORWARD("cuDeviceComputeCapability", "(JJJ)I", BF_PTR(major), BF_PTR(minor), (jlong)device);
}

/* ---------------------------------------------------------------- contexts */

BF_EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice device)
{
    BF_FORWARD("cuDevicePrimaryCtxRetain", "(JJ)I", BF_PTR(context), (jlong)device);
}

BF_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device)
{
    BF_FORWARD("cuDevicePrimaryCtxRelease", "(J)I", (jlong)device);
}

BF_EXPORT CUresult cuDevicePrimaryCtxRelease(CUdevice device)
{
    return cuDevicePrimaryCtxRelease_v2(device);
}

BF_EXPORT CUresult cuDevicePrimaryCtxReset_v2(CUdevice device)
{
    BF_FORWARD("cuDevicePrimaryCtxReset", "(J)I", (jlong)device);
}

BF_EXPORT CUresult cuDevicePrimaryCtxReset(CUdevice device)
{
    return cuDevicePrimaryCtxReset_v2(device);
}

BF_EXPORT CUresult cuDevicePrimaryCtxGetState(CUdevice device, unsigned int *flags, int *active)
{
    BF_FORWARD("cuDevicePrimaryCtxGetState", "(JJJ)I", (jlong)device, BF_PTR(flags), BF_PTR(active));
}

BF_EXPORT CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice device, unsigned int flags)
{
    /* Scheduling flags (spin, yield, blocking sync) only change how a local host thread waits. */
    (void)flags;
    BF_FORWARD("cuDeviceCheck", "(J)I", (jlong)device);
}

BF_EXPORT CUresult cuDevicePrimaryCtxSetFlags(CUdevice device, unsigned int flags)
{
    return cuDevicePrimaryCtxSetFlags_v2(device, flags);
}

BF_EXPORT CUresult cuCtxCreate_v4(CUcontext *context, void *params, unsigned int flags, CUdevice device)
{
    if (params != NULL)
    {
        return bf_unimplemented("cuCtxCreate_v4 with CUctxCreateParams", -1);
    }
    BF_FORWARD("cuCtxCreate", "(JJJ)I", BF_PTR(context), (jlong)flags, (jlong)device);
}

BF_EXPORT CUresult cuCtxCreate_v2(CUcontext *context, unsigned int flags, CUdevice device)
{
    return cuCtxCreate_v4(context, NULL, flags, device);
}

BF_EXPORT CUresult cuCtxDestroy_v2(CUcontext context)
{
    BF_FORWARD("cuCtxDestroy", "(J)I", BF_PTR(context));
}

BF_EXPORT CUresult cuCtxSetCurrent(CUcontext context)
{
    BF_FORWARD("cuCtxSetCurrent", "(J)I", BF_PTR(context));
}

BF_EXPORT CUresult cuCtxGetCurrent(CUcontext *context)
{
    BF_FORWARD("cuCtxGetCurrent", "(J)I", BF_PTR(context));
}

BF_EXPORT CUresult cuCtxPushCurrent_v2(CUcontext context)
{
    BF_FORWARD("cuCtxPushCurrent", "(J)I", BF_PTR(context));
}

BF_EXPORT CUresult cuCtxPopCurrent_v2(CUcontext *context)
{
    BF_FORWARD("cuCtxPopCurrent", "(J)I", BF_PTR(context));
}

BF_EXPORT CUresult cuCtxGetDevice(CUdevice *device)
{
    BF_FORWARD("cuCtxGetDevice", "(J)I", BF_PTR(device));
}

static CUresult forward_ctx_synchronize(void)
{
    BF_FORWARD("cuCtxSynchronize", "()I", 0);
}

/* Each blocking synchronisation ends with device writes to mapped host memory visible on the host. */
BF_EXPORT CUresult cuCtxSynchronize(void)
{
    return bf_mapped_pull_after(forward_ctx_synchronize());
}

BF_EXPORT CUresult cuCtxGetFlags(unsigned int *flags)
{
    if (flags == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *flags = 0;
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuCtxGetApiVersion(CUcontext context, unsigned int *version)
{
    (void)context;
    if (version == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *version = 3020;
    return CUDA_SUCCESS;
}

/* ---------------------------------------------------------------- memory */

BF_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes)
{
    BF_FORWARD("cuMemAlloc", "(JJ)I", BF_PTR(pointer), (jlong)bytes);
}

BF_EXPORT CUresult cuMemFree_v2(CUdeviceptr pointer)
{
    BF_FORWARD("cuMemFree", "(J)I", (jlong)pointer);
}

/*
 * Stream-ordered allocation without pools: memory is allocated at once (so it is there for whatever the
 * stream does next), and freed once the stream's earlier work is done, which the caller waits for.
 */
BF_EXPORT CUresult cuStreamSynchronize(CUstream stream);

BF_EXPORT CUresult cuMemAllocAsync(CUdeviceptr *pointer, size_t bytes, CUstream stream)
{
    (void)stream;
    return cuMemAlloc_v2(pointer, bytes);
}

BF_EXPORT CUresult cuMemFreeAsync(CUdeviceptr pointer, CUstream stream)
{
    const CUresult status = cuStreamSynchronize(stream);
    return status == CUDA_SUCCESS ? cuMemFree_v2(pointer) : status;
}

BF_TWIN(_ptsz, CUresult, cuMemAllocAsync, (CUdeviceptr *p, size_t n, CUstream s), (p, n, s))
BF_TWIN(_ptsz, CUresult, cuMemFreeAsync, (CUdeviceptr p, CUstream s), (p, s))

BF_EXPORT CUresult cuMemGetInfo_v2(size_t *free, size_t *total)
{
    BF_FORWARD("cuMemGetInfo", "(JJ)I", BF_PTR(free), BF_PTR(total));
}

BF_EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t bytes, CUstream stream)
{
    BF_FORWARD("cuMemcpyHtoDAsync", "(JJJJ)I", (jlong)dst, BF_PTR(src), (jlong)bytes, BF_PTR(stream));
}

BF_EXPORT CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t bytes, CUstream stream)
{
    BF_FORWARD("cuMemcpyDtoHAsync", "(JJJJ)I", BF_PTR(dst), (jlong)src, (jlong)bytes, BF_PTR(stream));
}

BF_EXPORT CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream)
{
    BF_FORWARD("cuMemcpyDtoDAsync", "(JJJJ)I", (jlong)dst, (jlong)src, (jlong)bytes, BF_PTR(stream));
}

CUresult bf_note_mapping(const void *host, size_t bytes, CUdeviceptr device)
{
    BF_FORWARD("mapHostRange", "(JJJ)I", BF_PTR(host), (jlong)bytes, (jlong)device);
}

CUresult bf_forget_mapping(const void *host)
{
    BF_FORWARD("unmapHostRange", "(J)I", BF_PTR(host));
}

CUresult bf_copy_to_device(CUdeviceptr dst, const void *src, size_t bytes)
{
    BF_FORWARD("cuMemcpyHtoD", "(JJJ)I", (jlong)dst, BF_PTR(src), (jlong)bytes);
}

CUresult bf_copy_to_host(void *dst, CUdeviceptr src, size_t bytes)
{
    BF_FORWARD("cuMemcpyDtoH", "(JJJ)I", BF_PTR(dst), (jlong)src, (jlong)bytes);
}

BF_EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes)
{
    return bf_copy_to_device(dst, src, bytes);
}

BF_EXPORT CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes)
{
    return bf_mapped_pull_after(bf_copy_to_host(dst, src, bytes));
}

/*
 * GPUs of a program may sit on different servers and never reach each other's memory: peer access is
 * reported absent and refused, and copies between GPUs pass through this process.
 */
#define CUDA_ERROR_PEER_ACCESS_UNSUPPORTED 217
#define CUDA_ERROR_PEER_ACCESS_NOT_ENABLED 705

BF_EXPORT CUresult cuDeviceGetCount(int *count);

static int is_device(CUdevice device)
{
    int count = 0;
    return cuDeviceGetCount(&count) == CUDA_SUCCESS && device >= 0 && device < count;
}

BF_EXPORT CUresult cuDeviceCanAccessPeer(int *canAccessPeer, CUdevice device, CUdevice peer)
{
    if (canAccessPeer == NULL || !is_device(device) || !is_device(peer))
    {
        return canAccessPeer == NULL ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_INVALID_DEVICE;
    }
    *canAccessPeer = 0;
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuDeviceGetP2PAttribute(int *value, int attribute, CUdevice source, CUdevice destination)
{
    if (value == NULL || !is_device(source) || !is_device(destination))
    {
        return value == NULL ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_INVALID_DEVICE;
    }
    (void)attribute;   /* performance rank, access, native atomics, array access: none between remote GPUs */
    *value = 0;
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuCtxEnablePeerAccess(void *peerContext, unsigned int flags)
{
    (void)peerContext; (void)flags;
    return CUDA_ERROR_PEER_ACCESS_UNSUPPORTED;
}

BF_EXPORT CUresult cuCtxDisablePeerAccess(void *peerContext)
{
    (void)peerContext;
    return CUDA_ERROR_PEER_ACCESS_NOT_ENABLED;
}

BF_EXPORT CUresult cuMemcpyPeerAsync(CUdeviceptr dst, void *dstContext, CUdeviceptr src, void *srcContext, size_t bytes,
    CUstream stream)
{
    BF_FORWARD("cuMemcpyPeer", "(JJJJJJ)I", (jlong)dst, BF_PTR(dstContext), (jlong)src, BF_PTR(srcContext), (jlong)bytes,
        BF_PTR(stream));
}

BF_EXPORT CUresult cuMemcpyPeer(CUdeviceptr dst, void *dstContext, CUdeviceptr src, void *srcContext, size_t bytes)
{
    return cuMemcpyPeerAsync(dst, dstContext, src, srcContext, bytes, NULL);
}

BF_TWIN(_ptsz, CUresult, cuMemcpyPeerAsync, (CUdeviceptr d, void *dc, CUdeviceptr s, void *sc, size_t n, CUstream st),
    (d, dc, s, sc, n, st))
BF_TWIN(_ptds, CUresult, cuMemcpyPeer, (CUdeviceptr d, void *dc, CUdeviceptr s, void *sc, size_t n), (d, dc, s, sc, n))

BF_EXPORT CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes)
{
    BF_FORWARD("cuMemcpyDtoD", "(JJJ)I", (jlong)dst, (jlong)src, (jlong)bytes);
}

BF_EXPORT CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream)
{
    BF_FORWARD("cuMemcpyAsync", "(JJJJ)I", (jlong)dst, (jlong)src, (jlong)bytes, BF_PTR(stream));
}

BF_EXPORT CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t bytes)
{
    BF_FORWARD("cuMemcpy", "(JJJ)I", (jlong)dst, (jlong)src, (jlong)bytes);
}

BF_EXPORT CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t count, CUstream stream)
{
    BF_FORWARD("cuMemsetD8Async", "(JJJJ)I", (jlong)dst, (jlong)value, (jlong)count, BF_PTR(stream));
}

BF_EXPORT CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short value, size_t count, CUstream stream)
{
    BF_FORWARD("cuMemsetD16Async", "(JJJJ)I", (jlong)dst, (jlong)value, (jlong)count, BF_PTR(stream));
}

BF_EXPORT CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int value, size_t count, CUstream stream)
{
    BF_FORWARD("cuMemsetD32Async", "(JJJJ)I", (jlong)dst, (jlong)value, (jlong)count, BF_PTR(stream));
}

BF_EXPORT CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char value, size_t count)
{
    BF_FORWARD("cuMemsetD8", "(JJJ)I", (jlong)dst, (jlong)value, (jlong)count);
}

BF_EXPORT CUresult cuMemsetD16_v2(CUdeviceptr dst, unsigned short value, size_t count)
{
    BF_FORWARD("cuMemsetD16", "(JJJ)I", (jlong)dst, (jlong)value, (jlong)count);
}

BF_EXPORT CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int value, size_t count)
{
    BF_FORWARD("cuMemsetD32", "(JJJ)I", (jlong)dst, (jlong)value, (jlong)count);
}

BF_TWIN(_ptds, CUresult, cuMemcpyHtoD_v2, (CUdeviceptr d, const void *s, size_t n), (d, s, n))
BF_TWIN(_ptds, CUresult, cuMemcpyDtoH_v2, (void *d, CUdeviceptr s, size_t n), (d, s, n))
BF_TWIN(_ptds, CUresult, cuMemcpyDtoD_v2, (CUdeviceptr d, CUdeviceptr s, size_t n), (d, s, n))
BF_TWIN(_ptds, CUresult, cuMemcpy, (CUdeviceptr d, CUdeviceptr s, size_t n), (d, s, n))
BF_TWIN(_ptsz, CUresult, cuMemcpyHtoDAsync_v2, (CUdeviceptr d, const void *s, size_t n, CUstream st), (d, s, n, st))
BF_TWIN(_ptsz, CUresult, cuMemcpyDtoHAsync_v2, (void *d, CUdeviceptr s, size_t n, CUstream st), (d, s, n, st))
BF_TWIN(_ptsz, CUresult, cuMemcpyDtoDAsync_v2, (CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st), (d, s, n, st))
BF_TWIN(_ptsz, CUresult, cuMemcpyAsync, (CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st), (d, s, n, st))
BF_TWIN(_ptds, CUresult, cuMemsetD8_v2, (CUdeviceptr d, unsigned char v, size_t n), (d, v, n))
BF_TWIN(_ptds, CUresult, cuMemsetD16_v2, (CUdeviceptr d, unsigned short v, size_t n), (d, v, n))
BF_TWIN(_ptds, CUresult, cuMemsetD32_v2, (CUdeviceptr d, unsigned int v, size_t n), (d, v, n))
BF_TWIN(_ptsz, CUresult, cuMemsetD8Async, (CUdeviceptr d, unsigned char v, size_t n, CUstream st), (d, v, n, st))
BF_TWIN(_ptsz, CUresult, cuMemsetD16Async, (CUdeviceptr d, unsigned short v, size_t n, CUstream st), (d, v, n, st))
BF_TWIN(_ptsz, CUresult, cuMemsetD32Async, (CUdeviceptr d, unsigned int v, size_t n, CUstream st), (d, v, n, st))

/* ---------------------------------------------------------------- streams and events */

BF_EXPORT CUresult cuStreamCreate(CUstream *stream, unsigned int flags)
{
    BF_FORWARD("cuStreamCreate", "(JJJ)I", BF_PTR(stream), (jlong)flags, (jlong)0);
}

BF_EXPORT CUresult cuStreamCreateWithPriority(CUstream *stream, unsigned int flags, int priority)
{
    BF_FORWARD("cuStreamCreate", "(JJJ)I", BF_PTR(stream), (jlong)flags, (jlong)priority);
}

BF_EXPORT CUresult cuStreamDestroy_v2(CUstream stream)
{
    BF_FORWARD("cuStreamDestroy", "(J)I", BF_PTR(stream));
}

static CUresult forward_stream_synchronize(CUstream stream)
{
    BF_FORWARD("cuStreamSynchronize", "(J)I", BF_PTR(stream));
}

BF_EXPORT CUresult cuStreamSynchronize(CUstream stream)
{
    return bf_mapped_pull_after(forward_stream_synchronize(stream));
}

BF_EXPORT CUresult cuStreamQuery(CUstream stream)
{
    BF_FORWARD("cuStreamQuery", "(J)I", BF_PTR(stream));
}

BF_EXPORT CUresult cuStreamWaitEvent(CUstream stream, CUevent event, unsigned int flags)
{
    BF_FORWARD("cuStreamWaitEvent", "(JJJ)I", BF_PTR(stream), BF_PTR(event), (jlong)flags);
}

BF_EXPORT CUresult cuEventCreate(CUevent *event, unsigned int flags)
{
    BF_FORWARD("cuEventCreate", "(JJ)I", BF_PTR(event), (jlong)flags);
}

BF_EXPORT CUresult cuEventRecord(CUevent event, CUstream stream)
{
    BF_FORWARD("cuEventRecord", "(JJ)I", BF_PTR(event), BF_PTR(stream));
}

BF_EXPORT CUresult cuEventRecordWithFlags(CUevent event, CUstream stream, unsigned int flags)
{
    (void)flags;
    return cuEventRecord(event, stream);
}

BF_EXPORT CUresult cuEventQuery(CUevent event)
{
    BF_FORWARD("cuEventQuery", "(J)I", BF_PTR(event));
}

static CUresult forward_event_synchronize(CUevent event)
{
    BF_FORWARD("cuEventSynchronize", "(J)I", BF_PTR(event));
}

BF_EXPORT CUresult cuEventSynchronize(CUevent event)
{
    return bf_mapped_pull_after(forward_event_synchronize(event));
}

BF_EXPORT CUresult cuEventElapsedTime_v2(float *milliseconds, CUevent start, CUevent end)
{
    BF_FORWARD("cuEventElapsedTime", "(JJJ)I", BF_PTR(milliseconds), BF_PTR(start), BF_PTR(end));
}

BF_EXPORT CUresult cuEventElapsedTime(float *milliseconds, CUevent start, CUevent end)
{
    return cuEventElapsedTime_v2(milliseconds, start, end);
}

BF_EXPORT CUresult cuEventDestroy_v2(CUevent event)
{
    BF_FORWARD("cuEventDestroy", "(J)I", BF_PTR(event));
}

/*
 * Host functions run in the program, after the stream's earlier work and before its later work: the
 * stream is waited for, the function called, and only then does the call return, so later work cannot be
 * queued before it. The caller waits where CUDA would return at once, and the function runs on the
 * caller's thread rather than a driver thread.
 */
BF_EXPORT CUresult cuLaunchHostFunc(CUstream stream, void (*function)(void *), void *userData)
{
    if (function == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    const CUresult status = cuStreamSynchronize(stream);
    if (status == CUDA_SUCCESS)   /* unlike a stream callback, a host function is skipped after an error */
    {
        function(userData);
    }
    return status;
}

BF_EXPORT CUresult cuStreamAddCallback(CUstream stream, void (*callback)(CUstream, CUresult, void *), void *userData,
    unsigned int flags)
{
    if (callback == NULL || flags != 0)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    callback(stream, cuStreamSynchronize(stream), userData);
    return CUDA_SUCCESS;
}

BF_TWIN(_ptsz, CUresult, cuLaunchHostFunc, (CUstream s, void (*f)(void *), void *u), (s, f, u))
BF_TWIN(_ptsz, CUresult, cuStreamAddCallback, (CUstream s, void (*c)(CUstream, CUresult, void *), void *u,
    unsigned int f), (s, c, u, f))
BF_TWIN(_ptsz, CUresult, cuStreamSynchronize, (CUstream s), (s))
BF_TWIN(_ptsz, CUresult, cuStreamQuery, (CUstream s), (s))
BF_TWIN(_ptsz, CUresult, cuStreamWaitEvent, (CUstream s, CUevent e, unsigned int f), (s, e, f))
BF_TWIN(_ptsz, CUresult, cuEventRecord, (CUevent e, CUstream s), (e, s))
BF_TWIN(_ptsz, CUresult, cuEventRecordWithFlags, (CUevent e, CUstream s, unsigned int f), (e, s, f))

/* ---------------------------------------------------------------- modules, libraries, kernels */

BF_EXPORT CUresult cuModuleLoadData(CUmodule *module, const void *image)
{
    if (module == NULL || image == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    const size_t bytes = image_size(&image);
    BF_FORWARD("cuModuleLoadData", "(JJJ)I", BF_PTR(module), BF_PTR(image), (jlong)bytes);
}

BF_EXPORT CUresult cuModuleLoadDataEx(CUmodule *module, const void *image, unsigned int options, void *o, void **v)
{
    (void)options; (void)o; (void)v; /* JIT options tune a compiler the server runs, not the result */
    return cuModuleLoadData(module, image);
}

BF_EXPORT CUresult cuModuleLoadFatBinary(CUmodule *module, const void *image)
{
    return cuModuleLoadData(module, image);
}

BF_EXPORT CUresult cuModuleUnload(CUmodule module)
{
    BF_FORWARD("cuModuleUnload", "(J)I", BF_PTR(module));
}

BF_EXPORT CUresult cuModuleGetFunction(CUfunction *function, CUmodule module, const char *name)
{
    BF_FORWARD("cuModuleGetFunction", "(JJJ)I", BF_PTR(function), BF_PTR(module), BF_PTR(name));
}

BF_EXPORT CUresult cuModuleGetGlobal_v2(CUdeviceptr *pointer, size_t *bytes, CUmodule module, const char *name)
{
    BF_FORWARD("cuModuleGetGlobal", "(JJJJ)I", BF_PTR(pointer), BF_PTR(bytes), BF_PTR(module), BF_PTR(name));
}

/*
 * Libraries are modules here and kernels are functions: the server maps cuLibrary* onto modules, and
 * CUDA itself lets a CUkernel be passed where a CUfunction is expected. Libraries load lazily: the image
 * travels to the server with the first lookup in it.
 */
#define CU_LIBRARY_BINARY_IS_PRESERVED 1

BF_EXPORT CUresult cuLibraryLoadData(void **library, const void *code, void *jitOptions, void **jitValues,
    unsigned int jitCount, void *libraryOptions, void **libraryValues, unsigned int libraryCount)
{
    (void)jitOptions; (void)jitValues; (void)jitCount;
    if (library == NULL || code == NULL || (libraryCount > 0 && libraryOptions == NULL))
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    /* A preserved image stays readable until cuLibraryUnload: the library then reads it when it ships. */
    jlong preserved = 0;
    for (unsigned int i = 0; i < libraryCount; i++)
    {
        if (((const int *)libraryOptions)[i] == CU_LIBRARY_BINARY_IS_PRESERVED &&
            (libraryValues == NULL || libraryValues[i] != NULL))
        {
            preserved = 1;
        }
    }
    const size_t bytes = image_size(&code);
    if (bf_trace_enabled())
    {
        fprintf(stderr, "bitfusion-trace: cuLibraryLoadData %zu bytes, %s\n", bytes, preserved ? "preserved" : "copied");
    }
    BF_FORWARD("cuLibraryLoadData", "(JJJJ)I", BF_PTR(library), BF_PTR(code), (jlong)bytes, preserved);
}

/* A module or library from a file is read here, where the file is, then loaded as from memory. */
#define CUDA_ERROR_FILE_NOT_FOUND 301

static CUresult read_image(const char *path, char **image)
{
    if (path == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    FILE *file = fopen(path, "rb");
    if (file == NULL)
    {
        return CUDA_ERROR_FILE_NOT_FOUND;
    }
    char *data = NULL;
    long bytes = -1;
    if (fseek(file, 0, SEEK_END) == 0 && (bytes = ftell(file)) > 0 && fseek(file, 0, SEEK_SET) == 0)
    {
        data = malloc((size_t)bytes + 1);   /* PTX text is loaded as a C string */
        if (data != NULL && fread(data, 1, (size_t)bytes, file) == (size_t)bytes)
        {
            data[bytes] = '\0';
        }
        else
        {
            free(data);
            data = NULL;
        }
    }
    fclose(file);
    if (data == NULL)
    {
        return bytes == 0 ? CUDA_ERROR_INVALID_IMAGE : CUDA_ERROR_FILE_NOT_FOUND;
    }
    *image = data;
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuModuleLoad(CUmodule *module, const char *path)
{
    char *image;
    CUresult status = read_image(path, &image);
    if (status == CUDA_SUCCESS)
    {
        status = cuModuleLoadData(module, image);
        free(image);
    }
    return status;
}

BF_EXPORT CUresult cuLibraryLoadFromFile(void **library, const char *path, void *jitOptions, void **jitValues,
    unsigned int jitCount, void *libraryOptions, void **libraryValues, unsigned int libraryCount)
{
    (void)libraryValues;
    for (unsigned int i = 0; i < libraryCount; i++)
    {
        if (libraryOptions == NULL || ((const int *)libraryOptions)[i] == CU_LIBRARY_BINARY_IS_PRESERVED)
        {
            return CUDA_ERROR_INVALID_VALUE;   /* as documented: a file's image cannot be preserved */
        }
    }
    char *image;
    CUresult status = read_image(path, &image);
    if (status == CUDA_SUCCESS)
    {
        /* Not preserved: the library takes its own copy, so the buffer can go at once. */
        status = cuLibraryLoadData(library, image, jitOptions, jitValues, jitCount, NULL, NULL, 0);
        free(image);
    }
    return status;
}

BF_EXPORT CUresult cuLibraryUnload(void *library)
{
    return cuModuleUnload(library);
}

BF_EXPORT CUresult cuLibraryGetModule(CUmodule *module, void *library)
{
    if (module == NULL || library == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *module = library;
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuLibraryGetKernel(void **kernel, void *library, const char *name)
{
    return cuModuleGetFunction(kernel, library, name);
}

BF_EXPORT CUresult cuLibraryGetGlobal(CUdeviceptr *pointer, size_t *bytes, void *library, const char *name)
{
    return cuModuleGetGlobal_v2(pointer, bytes, library, name);
}

BF_EXPORT CUresult cuKernelGetFunction(CUfunction *function, void *kernel)
{
    if (function == NULL || kernel == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *function = kernel;
    return CUDA_SUCCESS;
}

/*
 * Tensor maps (TMA descriptors) are built by the GPU's driver on the server: their format is private to
 * the driver. Ranks and the arrays they size are checked here, the rest there.
 */
BF_EXPORT CUresult cuTensorMapEncodeTiled(void *tensorMap, int dataType, unsigned int rank, void *globalAddress,
    const unsigned long long *globalDim, const unsigned long long *globalStrides, const unsigned int *boxDim,
    const unsigned int *elementStrides, int interleave, int swizzle, int l2Promotion, int oobFill)
{
    if (tensorMap == NULL || globalDim == NULL || boxDim == NULL || elementStrides == NULL || rank == 0 || rank > 5 ||
        (rank > 1 && globalStrides == NULL))
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    BF_FORWARD("cuTensorMapEncodeTiled", "(JJJJJJJJJJJJ)I", BF_PTR(tensorMap), (jlong)dataType, (jlong)rank,
        BF_PTR(globalAddress), BF_PTR(globalDim), BF_PTR(globalStrides), BF_PTR(boxDim), BF_PTR(elementStrides),
        (jlong)interleave, (jlong)swizzle, (jlong)l2Promotion, (jlong)oobFill);
}

BF_EXPORT CUresult cuTensorMapEncodeIm2col(void *tensorMap, int dataType, unsigned int rank, void *globalAddress,
    const unsigned long long *globalDim, const unsigned long long *globalStrides, const int *pixelBoxLowerCorner,
    const int *pixelBoxUpperCorner, unsigned int channelsPerPixel, unsigned int pixelsPerColumn,
    const unsigned int *elementStrides, int interleave, int swizzle, int l2Promotion, int oobFill)
{
    if (tensorMap == NULL || globalDim == NULL || globalStrides == NULL || pixelBoxLowerCorner == NULL ||
        pixelBoxUpperCorner == NULL || elementStrides == NULL || rank < 3 || rank > 5)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    BF_FORWARD("cuTensorMapEncodeIm2col", "(JJJJJJJJJJJJJJJ)I", BF_PTR(tensorMap), (jlong)dataType, (jlong)rank,
        BF_PTR(globalAddress), BF_PTR(globalDim), BF_PTR(globalStrides), BF_PTR(pixelBoxLowerCorner),
        BF_PTR(pixelBoxUpperCorner), (jlong)channelsPerPixel, (jlong)pixelsPerColumn, BF_PTR(elementStrides),
        (jlong)interleave, (jlong)swizzle, (jlong)l2Promotion, (jlong)oobFill);
}

BF_EXPORT CUresult cuTensorMapReplaceAddress(void *tensorMap, void *globalAddress)
{
    if (tensorMap == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    BF_FORWARD("cuTensorMapReplaceAddress", "(JJ)I", BF_PTR(tensorMap), BF_PTR(globalAddress));
}

BF_EXPORT CUresult cuCtxGetLimit(size_t *value, int limit)
{
    BF_FORWARD("cuCtxGetLimit", "(JJ)I", BF_PTR(value), (jlong)limit);
}

BF_EXPORT CUresult cuCtxSetLimit(int limit, size_t value)
{
    BF_FORWARD("cuCtxSetLimit", "(JJ)I", (jlong)limit, (jlong)value);
}

/* What a function is: its name, module and parameters, as it was looked up; kernels are functions here. */
BF_EXPORT CUresult cuFuncGetName(const char **name, CUfunction function)
{
    BF_FORWARD("cuFuncGetName", "(JJ)I", BF_PTR(name), BF_PTR(function));
}

BF_EXPORT CUresult cuKernelGetName(const char **name, void *kernel)
{
    return cuFuncGetName(name, kernel);
}

BF_EXPORT CUresult cuFuncGetModule(CUmodule *module, CUfunction function)
{
    BF_FORWARD("cuFuncGetModule", "(JJ)I", BF_PTR(module), BF_PTR(function));
}

BF_EXPORT CUresult cuKernelGetLibrary(void **library, void *kernel)
{
    return cuFuncGetModule(library, kernel);
}

BF_EXPORT CUresult cuFuncGetParamInfo(CUfunction function, size_t index, size_t *offset, size_t *size)
{
    BF_FORWARD("cuFuncGetParamInfo", "(JJJJ)I", BF_PTR(function), (jlong)index, BF_PTR(offset), BF_PTR(size));
}

BF_EXPORT CUresult cuKernelGetParamInfo(void *kernel, size_t index, size_t *offset, size_t *size)
{
    return cuFuncGetParamInfo(kernel, index, offset, size);
}

/* A function is loaded on the server when it is looked up: there is nothing left to load lazily. */
#define CU_FUNCTION_LOADING_STATE_LOADED 1

BF_EXPORT CUresult cuFuncIsLoaded(int *state, CUfunction function)
{
    CUmodule module;
    const CUresult status = state == NULL ? CUDA_ERROR_INVALID_VALUE : cuFuncGetModule(&module, function);
    if (status == CUDA_SUCCESS)
    {
        *state = CU_FUNCTION_LOADING_STATE_LOADED;
    }
    return status;
}

BF_EXPORT CUresult cuFuncLoad(CUfunction function)
{
    CUmodule module;
    return cuFuncGetModule(&module, function);
}

BF_EXPORT CUresult cuFuncGetAttribute(int *value, int attribute, CUfunction function)
{
    BF_FORWARD("cuFuncGetAttribute", "(JJJ)I", BF_PTR(value), (jlong)attribute, BF_PTR(function));
}

BF_EXPORT CUresult cuKernelGetAttribute(int *value, int attribute, void *kernel, CUdevice device)
{
    (void)device;
    return cuFuncGetAttribute(value, attribute, kernel);
}

/* Settable attributes change how later launches run: the server decides whether it can honour them. */
BF_EXPORT CUresult cuFuncSetAttribute(CUfunction function, int attribute, int value)
{
    BF_FORWARD("cuFuncSetAttribute", "(JJJ)I", BF_PTR(function), (jlong)attribute, (jlong)value);
}

/* Kernels of libraries are the functions of their modules here: the same rules. */
BF_EXPORT CUresult cuKernelSetAttribute(int attribute, int value, void *kernel, CUdevice device)
{
    (void)device;
    return cuFuncSetAttribute(kernel, attribute, value);
}

BF_EXPORT CUresult cuFuncSetCacheConfig(CUfunction function, int config)
{
    (void)function; (void)config;
    return CUDA_SUCCESS;
}

/* The parameters of one launch, however the program gave them. */
typedef struct
{
    void **kernel_params;      /* a pointer per parameter, or NULL */
    const void *packed;        /* CU_LAUNCH_PARAM_BUFFER_POINTER: the parameters packed at their offsets */
    size_t packed_bytes;
    unsigned int cluster[3];   /* CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION, 0 when not asked for */
} launch_arguments;

static CUresult launch(CUfunction function,
    unsigned int gridX, unsigned int gridY, unsigned int gridZ,
    unsigned int blockX, unsigned int blockY, unsigned int blockZ,
    unsigned int sharedMemBytes, CUstream stream, const launch_arguments *arguments)
{
    /* Host writes to mapped host memory reach the GPU before any kernel that may read them. */
    const CUresult pushed = bf_mapped_push();
    if (pushed != CUDA_SUCCESS)
    {
        return pushed;
    }
    BF_FORWARD("cuLaunchKernel", "(JJJJJJJJJJJJJJJ)I", BF_PTR(function),
        (jlong)gridX, (jlong)gridY, (jlong)gridZ, (jlong)blockX, (jlong)blockY, (jlong)blockZ,
        (jlong)sharedMemBytes, BF_PTR(stream), BF_PTR(arguments->kernel_params), BF_PTR(arguments->packed),
        (jlong)arguments->packed_bytes, (jlong)arguments->cluster[0], (jlong)arguments->cluster[1],
        (jlong)arguments->cluster[2]);
}

#define CU_LAUNCH_PARAM_END_AS_INT 0x00
#define CU_LAUNCH_PARAM_BUFFER_POINTER_AS_INT 0x01
#define CU_LAUNCH_PARAM_BUFFER_SIZE_AS_INT 0x02

/* The parameters as cuLaunchKernel takes them: a pointer per parameter, or extra's packed buffer and size. */
static CUresult read_parameters(void **kernelParams, void **extra, launch_arguments *arguments)
{
    *arguments = (launch_arguments){ kernelParams, NULL, 0, { 0, 0, 0 } };
    if (extra == NULL)
    {
        return CUDA_SUCCESS;
    }
    if (kernelParams != NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    const size_t *size = NULL;
    for (int i = 0; extra[i] != (void *)CU_LAUNCH_PARAM_END_AS_INT; i += 2)
    {
        if (extra[i] == (void *)CU_LAUNCH_PARAM_BUFFER_POINTER_AS_INT)
        {
            arguments->packed = extra[i + 1];
        }
        else if (extra[i] == (void *)CU_LAUNCH_PARAM_BUFFER_SIZE_AS_INT)
        {
            size = (const size_t *)extra[i + 1];
        }
        else
        {
            return CUDA_ERROR_INVALID_VALUE;
        }
    }
    if (arguments->packed == NULL || size == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    arguments->packed_bytes = *size;
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuLaunchKernel(CUfunction function,
    unsigned int gridX, unsigned int gridY, unsigned int gridZ,
    unsigned int blockX, unsigned int blockY, unsigned int blockZ,
    unsigned int sharedMemBytes, CUstream stream, void **kernelParams, void **extra)
{
    launch_arguments arguments;
    const CUresult read = read_parameters(kernelParams, extra, &arguments);
    if (read != CUDA_SUCCESS)
    {
        return read;
    }
    return launch(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes, stream, &arguments);
}

typedef struct
{
    unsigned int id;
    char pad[4];
    union
    {
        char bytes[64];
        int value;
        struct { unsigned int x, y, z; } cluster;
    } value;
} launch_attribute;

typedef struct
{
    unsigned int gridDimX, gridDimY, gridDimZ;
    unsigned int blockDimX, blockDimY, blockDimZ;
    unsigned int sharedMemBytes;
    CUstream hStream;
    launch_attribute *attrs;
    unsigned int numAttrs;
} launch_config;

enum
{
    CU_LAUNCH_ATTRIBUTE_COOPERATIVE = 2,
    CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4,
    CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT = 7,
    CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT = 12,
    CU_LAUNCH_ATTRIBUTE_DEVICE_UPDATABLE_KERNEL_NODE = 13
};

/*
 * Cluster dimensions travel to the GPU: kernels built for a cluster shape (CUTLASS's Hopper GEMMs) are
 * wrong without it. Attributes that only tune scheduling (priorities, programmatic serialisation, L2
 * windows, carve-outs, preferred clusters) can be left out without changing any result. Those that would
 * change what the program observes and that the server cannot give (cooperative grids, events fired from
 * inside a launch, graph-only nodes) are refused, named once.
 */
BF_EXPORT CUresult cuLaunchKernelEx(const launch_config *config, CUfunction function, void **kernelParams, void **extra)
{
    if (config == NULL || (config->numAttrs > 0 && config->attrs == NULL))
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    launch_arguments arguments;
    const CUresult read = read_parameters(kernelParams, extra, &arguments);
    if (read != CUDA_SUCCESS)
    {
        return read;
    }
    for (unsigned int i = 0; i < config->numAttrs; i++)
    {
        const launch_attribute *attribute = &config->attrs[i];
        switch (attribute->id)
        {
            case CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION:
                arguments.cluster[0] = attribute->value.cluster.x;
                arguments.cluster[1] = attribute->value.cluster.y;
                arguments.cluster[2] = attribute->value.cluster.z;
                if (arguments.cluster[0] == 0 || arguments.cluster[1] == 0 || arguments.cluster[2] == 0)
                {
                    return CUDA_ERROR_INVALID_VALUE;
                }
                break;
            case CU_LAUNCH_ATTRIBUTE_COOPERATIVE:
                if (attribute->value.value != 0)
                {
                    return bf_unimplemented("cuLaunchKernelEx with CU_LAUNCH_ATTRIBUTE_COOPERATIVE", -1);
                }
                break;
            case CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT:
                return bf_unimplemented("cuLaunchKernelEx with CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT", -1);
            case CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT:
                return bf_unimplemented("cuLaunchKernelEx with CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT", -1);
            case CU_LAUNCH_ATTRIBUTE_DEVICE_UPDATABLE_KERNEL_NODE:
                return bf_unimplemented("cuLaunchKernelEx with CU_LAUNCH_ATTRIBUTE_DEVICE_UPDATABLE_KERNEL_NODE", -1);
            default:
                break;
        }
    }
    return launch(function, config->gridDimX, config->gridDimY, config->gridDimZ,
        config->blockDimX, config->blockDimY, config->blockDimZ, config->sharedMemBytes, config->hStream, &arguments);
}

/* Cluster occupancy is the GPU's driver's to answer: the launch's shape and cluster travel to the server. */
static CUresult occupancy_clusters(int *value, int query, CUfunction function, const launch_config *config)
{
    if (value == NULL || config == NULL || (config->numAttrs > 0 && config->attrs == NULL))
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    unsigned int cluster[3] = { 0, 0, 0 };
    for (unsigned int i = 0; i < config->numAttrs; i++)
    {
        if (config->attrs[i].id == CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)
        {
            cluster[0] = config->attrs[i].value.cluster.x;
            cluster[1] = config->attrs[i].value.cluster.y;
            cluster[2] = config->attrs[i].value.cluster.z;
        }
    }
    BF_FORWARD("cuOccupancyClusters", "(JJJJJJJJJJJJJ)I", BF_PTR(value), (jlong)query, BF_PTR(function),
        (jlong)config->gridDimX, (jlong)config->gridDimY, (jlong)config->gridDimZ,
        (jlong)config->blockDimX, (jlong)config->blockDimY, (jlong)config->blockDimZ, (jlong)config->sharedMemBytes,
        (jlong)cluster[0], (jlong)cluster[1], (jlong)cluster[2]);
}

BF_EXPORT CUresult cuOccupancyMaxActiveClusters(int *numClusters, CUfunction function, const launch_config *config)
{
    return occupancy_clusters(numClusters, 0, function, config);
}

BF_EXPORT CUresult cuOccupancyMaxPotentialClusterSize(int *clusterSize, CUfunction function, const launch_config *config)
{
    return occupancy_clusters(clusterSize, 1, function, config);
}

BF_TWIN(_ptsz, CUresult, cuLaunchKernel, (CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
    unsigned int bx, unsigned int by, unsigned int bz, unsigned int sm, CUstream s, void **p, void **e),
    (f, gx, gy, gz, bx, by, bz, sm, s, p, e))
BF_TWIN(_ptsz, CUresult, cuLaunchKernelEx, (const launch_config *c, CUfunction f, void **p, void **e), (c, f, p, e))

/* ---------------------------------------------------------------- errors */

BF_EXPORT CUresult cuGetErrorName(CUresult error, const char **name)
{
    BF_FORWARD("cuGetErrorName", "(JJ)I", (jlong)error, BF_PTR(name));
}

BF_EXPORT CUresult cuGetErrorString(CUresult error, const char **description)
{
    BF_FORWARD("cuGetErrorString", "(JJ)I", (jlong)error, BF_PTR(description));
}

BF_EXPORT CUresult cuModuleGetLoadingMode(int *mode)
{
    /* Eager: every image is shipped to the server when the runtime registers it, off the launch path. */
    if (mode == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *mode = 1; /* CU_MODULE_EAGER_LOADING */
    return CUDA_SUCCESS;
}

/* The device of any context: made current for the question, then the caller's stack is restored. */
BF_EXPORT CUresult cuCtxGetDevice_v2(CUdevice *device, CUcontext context)
{
    if (context == NULL)
    {
        return cuCtxGetDevice(device);
    }
    CUresult status = cuCtxPushCurrent_v2(context);
    if (status != CUDA_SUCCESS)
    {
        return status;
    }
    status = cuCtxGetDevice(device);
    CUcontext popped;
    cuCtxPopCurrent_v2(&popped);
    return status;
}

BF_EXPORT CUresult cuCtxSynchronize_v2(CUcontext context)
{
    if (context == NULL)
    {
        return cuCtxSynchronize();
    }
    CUresult status = cuCtxPushCurrent_v2(context);
    if (status != CUDA_SUCCESS)
    {
        return status;
    }
    status = cuCtxSynchronize();
    CUcontext popped;
    cuCtxPopCurrent_v2(&popped);
    return status;
}
