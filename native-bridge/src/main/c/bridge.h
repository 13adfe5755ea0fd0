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

/** The private tables behind cuGetExportTable (export_tables.c). */
CUresult bf_export_table(const void **table, const unsigned char *uuid);

#endif
