/*
 * Our libcuda.so.1: shared declarations of the bridge's C parts.
 *
 * The driver types are declared here rather than taken from cuda.h so the library builds on machines
 * without the CUDA toolkit (the exported symbol list then comes from the committed snapshot).
 */
#ifndef BITFUSION_BRIDGE_H
#define BITFUSION_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#define BF_EXPORT __attribute__((visibility("default")))

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

enum
{
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_DEINITIALIZED = 4,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_NOT_READY = 600,
    CUDA_ERROR_NOT_SUPPORTED = 801,
    CUDA_ERROR_UNKNOWN = 999
};

/** One row of the name table cuGetProcAddress serves (generated, sorted by name). */
typedef struct
{
    const char *name;
    int version;             /* first CUDA version this row applies to (0: any) */
    void *fn;
    void *fn_per_thread;
} bf_proc_entry;

extern const bf_proc_entry bf_proc_table[];
extern const int bf_proc_table_length;
extern const int bf_symbol_count;

/** Body of every generated "not supported" symbol: logs the name once, returns CUDA_ERROR_NOT_SUPPORTED. */
int bf_unimplemented(const char *name, int index);

/** Whether BITFUSION_TRACE is set: then every lookup and private-table request is logged to stderr. */
int bf_trace_enabled(void);

/**
 * Look an API name up as cuGetProcAddress does: the newest ABI introduced at or before cuda_version.
 *
 * @return the function, or NULL with *status 1 (symbol not found) or 2 (version not sufficient).
 */
void *bf_lookup(const char *name, int cuda_version, int per_thread, int *status);

/**
 * The page-locked host range (cuMemHostAlloc/cuMemAllocHost/cuMemHostRegister) holding a pointer.
 *
 * @return 1 with *base and *bytes set, or 0 when the pointer is in no such range (host_memory.c).
 */
int bf_host_range(const void *pointer, void **base, size_t *bytes);

/** Tell the Java side about mapped host memory and its device copy, so kernels given host addresses get the copy's. */
CUresult bf_note_mapping(const void *host, size_t bytes, CUdeviceptr device);
CUresult bf_forget_mapping(const void *host);

/** Synchronous copies straight to the server, without the mapped-memory hooks (driver.c). */
CUresult bf_copy_to_device(CUdeviceptr dst, const void *src, size_t bytes);
CUresult bf_copy_to_host(void *dst, CUdeviceptr src, size_t bytes);

/**
 * Mapped host memory (host_memory.c): before a launch, host writes since the last exchange go to each
 * range's device copy; after a blocking synchronisation that succeeded, the bytes the GPU changed come back.
 *
 * @return bf_mapped_pull_after: status unchanged, or the failed copy's status when status was a success.
 */
CUresult bf_mapped_push(void);
CUresult bf_mapped_pull_after(CUresult status);

/** The private tables behind cuGetExportTable (export_tables.c). */
CUresult bf_export_table(const void **table, const unsigned char *uuid);

#endif
