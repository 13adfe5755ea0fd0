/*
 * Page-locked host memory, served from client memory: the copies stream host memory to the remote GPU
 * anyway, so "pinned" only has to mean "remembered with its flags". Mapped (zero-copy) memory cannot
 * reach a remote GPU: CU_MEMHOSTALLOC_DEVICEMAP / CU_MEMHOSTREGISTER_DEVICEMAP and device pointers to
 * host memory are refused with CUDA_ERROR_NOT_SUPPORTED, logged once by name.
 */
#include <pthread.h>
#include <stdlib.h>

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
    if ((flags & CU_MEMHOSTALLOC_DEVICEMAP) != 0)
    {
        return bf_unimplemented("cuMemHostAlloc with CU_MEMHOSTALLOC_DEVICEMAP (mapped host memory)", -1);
    }
    void *memory;
    if (posix_memalign(&memory, HOST_ALLOC_ALIGNMENT, bytes == 0 ? 1 : bytes) != 0)
    {
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    const CUresult status = add_range(memory, bytes, flags, 1);
    if (status != CUDA_SUCCESS)
    {
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
    if ((flags & CU_MEMHOSTREGISTER_DEVICEMAP) != 0)
    {
        return bf_unimplemented("cuMemHostRegister with CU_MEMHOSTREGISTER_DEVICEMAP (mapped host memory)", -1);
    }
    return add_range(pointer, bytes, flags, 0);
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
