/*
 * Page-locked host memory, served from client memory: the copies stream host memory to the remote GPU
 * anyway, so "pinned" only has to mean "remembered with its flags".
 *
 * Mapped (zero-copy) memory cannot be shared with a GPU across the network, so each mapped range has a
 * device copy of the same size in the tenant's slice, which cuMemHostGetDevicePointer hands out, and the
 * two are kept coherent at the points where CUDA programs may rely on coherence: host writes travel
 * before each kernel launch, and the bytes the GPU changed come back after each blocking synchronisation
 * (context, stream, event, synchronous copy to the host). A snapshot of what both sides last agreed on
 * tells which side changed which byte, so host writes the GPU did not touch survive a pull. What this
 * cannot give is concurrent access while a kernel runs (a host spinning on a flag a running kernel sets);
 * libraries such as cuDNN only need the synchronised view.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

#define HOST_ALLOC_ALIGNMENT 4096
#define CU_MEMHOSTALLOC_DEVICEMAP 0x02
#define CU_MEMHOSTREGISTER_DEVICEMAP 0x02
#define CUDA_ERROR_OUT_OF_MEMORY 2
#define CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED 712
#define CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED 713

/* One page-locked range: allocated here (owned) or registered by the program. */
typedef struct host_range
{
    char *base;
    size_t bytes;
    unsigned int flags;
    int owned;
    struct host_range *next;
} host_range;

static pthread_mutex_t ranges_lock = PTHREAD_MUTEX_INITIALIZER;
static host_range *ranges;

/* A mapped range's device copy and the bytes both sides last agreed on. */
typedef struct mapped_range
{
    char *host;
    size_t bytes;
    CUdevice ordinal;          /* the GPU holding the copy: exchanges happen from a context on it */
    CUdeviceptr device;
    unsigned char *agreed;
    unsigned char *incoming;
    struct mapped_range *next;
} mapped_range;

/* Serialises exchanges, and frees against them; taken before ranges_lock when both are held. */
static pthread_mutex_t mapped_lock = PTHREAD_MUTEX_INITIALIZER;
static mapped_range *mapped;
static atomic_int mapped_count;

CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes);
CUresult cuMemFree_v2(CUdeviceptr pointer);
CUresult cuCtxGetDevice(CUdevice *device);

/* Gives a host range its device copy, filled with the range's current contents. */
static CUresult map_range(char *host, size_t bytes)
{
    mapped_range *range = calloc(1, sizeof(mapped_range));
    unsigned char *agreed = malloc(bytes);
    unsigned char *incoming = malloc(bytes);
    CUresult status = range != NULL && agreed != NULL && incoming != NULL ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
    CUdeviceptr device = 0;
    CUdevice ordinal = 0;
    if (status == CUDA_SUCCESS)
    {
        status = cuCtxGetDevice(&ordinal);
    }
    if (status == CUDA_SUCCESS)
    {
        status = cuMemAlloc_v2(&device, bytes);
    }
    if (status == CUDA_SUCCESS)
    {
        memcpy(agreed, host, bytes);
        status = bf_copy_to_device(device, agreed, bytes);
        if (status != CUDA_SUCCESS)
        {
            cuMemFree_v2(device);
        }
    }
    if (status != CUDA_SUCCESS)
    {
        free(range);
        free(agreed);
        free(incoming);
        return status;
    }
    *range = (mapped_range){ host, bytes, ordinal, device, agreed, incoming, NULL };
    status = bf_note_mapping(host, bytes, device);
    if (status != CUDA_SUCCESS)
    {
        cuMemFree_v2(device);
        free(range);
        free(agreed);
        free(incoming);
        return status;
    }
    pthread_mutex_lock(&mapped_lock);
    range->next = mapped;
    mapped = range;
    atomic_fetch_add(&mapped_count, 1);
    pthread_mutex_unlock(&mapped_lock);
    if (bf_trace_enabled())
    {
        fprintf(stderr, "bitfusion-trace: mapped host memory %p, %zu bytes, device copy 0x%llx\n",
            (void *)host, bytes, (unsigned long long)device);
    }
    return CUDA_SUCCESS;
}

static void unmap_range(const char *host)
{
    pthread_mutex_lock(&mapped_lock);
    for (mapped_range **at = &mapped; *at != NULL; at = &(*at)->next)
    {
        if ((*at)->host == host)
        {
            mapped_range *range = *at;
            *at = range->next;
            atomic_fetch_sub(&mapped_count, 1);
            bf_forget_mapping(range->host);
            cuMemFree_v2(range->device);
            free(range->agreed);
            free(range->incoming);
            free(range);
            break;
        }
    }
    pthread_mutex_unlock(&mapped_lock);
}

/* The GPU of the calling thread's context, or -1 without one: ranges on other GPUs wait for their own. */
static CUdevice current_ordinal(void)
{
    CUdevice ordinal;
    return cuCtxGetDevice(&ordinal) == CUDA_SUCCESS ? ordinal : -1;
}

CUresult bf_mapped_push(void)
{
    if (atomic_load_explicit(&mapped_count, memory_order_relaxed) == 0)
    {
        return CUDA_SUCCESS;
    }
    CUdevice ordinal = -2;   /* asked for once, and only when a range has host writes to send */
    CUresult status = CUDA_SUCCESS;
    pthread_mutex_lock(&mapped_lock);
    for (mapped_range *range = mapped; range != NULL && status == CUDA_SUCCESS; range = range->next)
    {
        if (memcmp(range->host, range->agreed, range->bytes) == 0)
        {
            continue;
        }
        if (ordinal == -2)
        {
            ordinal = current_ordinal();
        }
        if (range->ordinal != ordinal)
        {
            continue;
        }
        size_t first = 0;
        size_t end = range->bytes;
        while (range->host[first] == (char)range->agreed[first])
        {
            first++;
        }
        while (range->host[end - 1] == (char)range->agreed[end - 1])
        {
            end--;
        }
        memcpy(range->agreed + first, range->host + first, end - first);
        status = bf_copy_to_device(range->device + first, range->agreed + first, end - first);
    }
    pthread_mutex_unlock(&mapped_lock);
    return status;
}

#define MERGE_BLOCK 4096

CUresult bf_mapped_pull_after(const CUresult status)
{
    if (status != CUDA_SUCCESS || atomic_load_explicit(&mapped_count, memory_order_relaxed) == 0)
    {
        return status;
    }
    const CUdevice ordinal = current_ordinal();
    CUresult pulled = CUDA_SUCCESS;
    pthread_mutex_lock(&mapped_lock);
    for (mapped_range *range = mapped; range != NULL && pulled == CUDA_SUCCESS; range = range->next)
    {
        if (range->ordinal != ordinal)
        {
            continue;
        }
        pulled = bf_copy_to_host(range->incoming, range->device, range->bytes);
        /* Only the bytes the GPU changed since the last exchange are taken: host writes it did not touch stay. */
        for (size_t block = 0; pulled == CUDA_SUCCESS && block < range->bytes; block += MERGE_BLOCK)
        {
            const size_t length = range->bytes - block < MERGE_BLOCK ? range->bytes - block : MERGE_BLOCK;
            if (memcmp(range->incoming + block, range->agreed + block, length) == 0)
            {
                continue;
            }
            for (size_t i = block; i < block + length; i++)
            {
                if (range->incoming[i] != range->agreed[i])
                {
                    range->agreed[i] = range->incoming[i];
                    range->host[i] = (char)range->incoming[i];
                }
            }
        }
    }
    pthread_mutex_unlock(&mapped_lock);
    return pulled;
}

/* Callers hold ranges_lock. */
static host_range **find_range(const void *pointer, int exact)
{
    for (host_range **at = &ranges; *at != NULL; at = &(*at)->next)
    {
        const char *p = (const char *)pointer;
        if (exact ? p == (*at)->base : p >= (*at)->base && p < (*at)->base + (*at)->bytes)
        {
            return at;
        }
    }
    return NULL;
}

static CUresult add_range(void *base, size_t bytes, unsigned int flags, int owned)
{
    host_range *range = malloc(sizeof(host_range));
    if (range == NULL)
    {
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *range = (host_range){ (char *)base, bytes == 0 ? 1 : bytes, flags, owned, NULL };
    pthread_mutex_lock(&ranges_lock);
    const int overlaps = find_range(base, 0) != NULL;
    if (!overlaps)
    {
        range->next = ranges;
        ranges = range;
    }
    pthread_mutex_unlock(&ranges_lock);
    if (overlaps)
    {
        free(range);
        return CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED;
    }
    return CUDA_SUCCESS;
}

/* Unlink the range starting at base when it is owned as asked; returns it, or NULL. */
static host_range *take_range(const void *base, int owned)
{
    pthread_mutex_lock(&ranges_lock);
    host_range **at = find_range(base, 1);
    host_range *range = at != NULL && (*at)->owned == owned ? *at : NULL;
    if (range != NULL)
    {
        *at = range->next;
    }
    pthread_mutex_unlock(&ranges_lock);
    return range;
}

int bf_host_range(const void *pointer, void **base, size_t *bytes)
{
    pthread_mutex_lock(&ranges_lock);
    host_range **found = find_range(pointer, 0);
    if (found != NULL)
    {
        *base = (*found)->base;
        *bytes = (*found)->bytes;
    }
    pthread_mutex_unlock(&ranges_lock);
    return found != NULL;
}

BF_EXPORT CUresult cuMemHostAlloc(void **pointer, size_t bytes, unsigned int flags)
{
    if (pointer == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    void *memory;
    if (posix_memalign(&memory, HOST_ALLOC_ALIGNMENT, bytes == 0 ? 1 : bytes) != 0)
    {
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    if ((flags & CU_MEMHOSTALLOC_DEVICEMAP) != 0)
    {
        memset(memory, 0, bytes == 0 ? 1 : bytes);
        const CUresult status = map_range(memory, bytes == 0 ? 1 : bytes);
        if (status != CUDA_SUCCESS)
        {
            free(memory);
            return status;
        }
    }
    const CUresult status = add_range(memory, bytes, flags, 1);
    if (status != CUDA_SUCCESS)
    {
        if ((flags & CU_MEMHOSTALLOC_DEVICEMAP) != 0)
        {
            unmap_range(memory);
        }
        free(memory);
        return status;
    }
    *pointer = memory;
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuMemAllocHost_v2(void **pointer, size_t bytes)
{
    return cuMemHostAlloc(pointer, bytes, 0);
}

BF_EXPORT CUresult cuMemFreeHost(void *pointer)
{
    host_range *range = take_range(pointer, 1);
    if (range == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if ((range->flags & CU_MEMHOSTALLOC_DEVICEMAP) != 0)
    {
        unmap_range(range->base);
    }
    free(range->base);
    free(range);
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuMemHostRegister_v2(void *pointer, size_t bytes, unsigned int flags)
{
    if (pointer == NULL || bytes == 0)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    const CUresult status = add_range(pointer, bytes, flags, 0);
    if (status != CUDA_SUCCESS || (flags & CU_MEMHOSTREGISTER_DEVICEMAP) == 0)
    {
        return status;
    }
    const CUresult mapped_status = map_range(pointer, bytes);
    if (mapped_status != CUDA_SUCCESS)
    {
        free(take_range(pointer, 0));
    }
    return mapped_status;
}

BF_EXPORT CUresult cuMemHostRegister(void *pointer, size_t bytes, unsigned int flags)
{
    return cuMemHostRegister_v2(pointer, bytes, flags);
}

BF_EXPORT CUresult cuMemHostUnregister(void *pointer)
{
    host_range *range = take_range(pointer, 0);
    if (range == NULL)
    {
        return CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED;
    }
    if ((range->flags & CU_MEMHOSTREGISTER_DEVICEMAP) != 0)
    {
        unmap_range(range->base);
    }
    free(range);
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuMemHostGetFlags(unsigned int *flags, void *pointer)
{
    if (flags == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    pthread_mutex_lock(&ranges_lock);
    host_range **at = find_range(pointer, 0);
    if (at != NULL)
    {
        *flags = (*at)->flags;
    }
    pthread_mutex_unlock(&ranges_lock);
    return at != NULL ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

/* The device copy of mapped host memory, at the pointer's offset; memory that is not mapped has none. */
BF_EXPORT CUresult cuMemHostGetDevicePointer_v2(CUdeviceptr *device, void *pointer, unsigned int flags)
{
    if (device == NULL || pointer == NULL || flags != 0)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    CUresult status = CUDA_ERROR_INVALID_VALUE;
    pthread_mutex_lock(&mapped_lock);
    for (mapped_range *range = mapped; range != NULL; range = range->next)
    {
        const char *p = (const char *)pointer;
        if (p >= range->host && p < range->host + range->bytes)
        {
            *device = range->device + (CUdeviceptr)(p - range->host);
            status = CUDA_SUCCESS;
            break;
        }
    }
    pthread_mutex_unlock(&mapped_lock);
    return status;
}

BF_EXPORT CUresult cuMemHostGetDevicePointer(CUdeviceptr *device, void *pointer, unsigned int flags)
{
    return cuMemHostGetDevicePointer_v2(device, pointer, flags);
}
