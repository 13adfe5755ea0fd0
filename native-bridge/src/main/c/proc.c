/*
 * What the bridge answers without a JVM: the driver's version, error names and descriptions (a program
 * whose JVM could not start still prints why), and symbol lookup. cuGetProcAddress serves
 * the generated name table; every symbol the bridge neither forwards nor answers here is a generated stub
 * that lands in bf_unimplemented.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

#define DRIVER_VERSION 13000
#define MAX_SYMBOLS 4096
#define CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM 0x2
#define CU_GET_PROC_ADDRESS_SUCCESS 0
#define CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND 1
#define CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT 2

static atomic_char logged[MAX_SYMBOLS];

static int trace_enabled = -1;

int bf_trace_enabled(void)
{
    if (trace_enabled < 0)
    {
        const char *value = getenv("BITFUSION_TRACE");
        trace_enabled = value != NULL && *value != '\0' && strcmp(value, "0") != 0;
    }
    return trace_enabled;
}

void bf_set_trace(int enabled)
{
    if (enabled)
    {
        trace_enabled = 1;
    }
}

int bf_unimplemented(const char *name, int index)
{
    if (index < 0 || index >= MAX_SYMBOLS || !atomic_exchange(&logged[index], 1))
    {
        fprintf(stderr, "bitfusion: %s is not supported yet (CUDA_ERROR_NOT_SUPPORTED)\n", name);
    }
    return CUDA_ERROR_NOT_SUPPORTED;
}

BF_EXPORT CUresult cuDriverGetVersion(int *driverVersion)
{
    if (driverVersion == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *driverVersion = DRIVER_VERSION;
    return CUDA_SUCCESS;
}

/* Names and descriptions come from the table generated from cuda.h; they live as long as the process. */
BF_EXPORT CUresult cuGetErrorName(CUresult error, const char **pStr)
{
    const bf_cuda_error *found = pStr == NULL ? NULL : bf_cuda_error_find(error);
    if (found == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *pStr = found->name;
    return CUDA_SUCCESS;
}

BF_EXPORT CUresult cuGetErrorString(CUresult error, const char **pStr)
{
    const bf_cuda_error *found = pStr == NULL ? NULL : bf_cuda_error_find(error);
    if (found == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *pStr = found->description;
    return CUDA_SUCCESS;
}

static int compare_entry(const void *key, const void *entry)
{
    return strcmp((const char *)key, ((const bf_proc_entry *)entry)->name);
}

void *bf_lookup(const char *name, int cuda_version, int per_thread, int *status)
{
    const bf_proc_entry *found = bsearch(name, bf_proc_table, (size_t)bf_proc_table_length,
        sizeof(bf_proc_entry), compare_entry);
    if (found == NULL)
    {
        *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
        return NULL;
    }
    const bf_proc_entry *first = found;
    while (first > bf_proc_table && strcmp(first[-1].name, name) == 0)
    {
        first--;
    }
    const bf_proc_entry *chosen = NULL;
    for (const bf_proc_entry *row = first; row < bf_proc_table + bf_proc_table_length && strcmp(row->name, name) == 0; row++)
    {
        if (row->version <= cuda_version)
        {
            chosen = row;
        }
    }
    if (chosen == NULL)
    {
        *status = CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT;
        return NULL;
    }
    *status = CU_GET_PROC_ADDRESS_SUCCESS;
    return per_thread ? chosen->fn_per_thread : chosen->fn;
}

/*
 * The generated table pairs each ABI of an API name with the CUDA version that introduced it
 * (cudaTypedefs.h), so a runtime asking for "cuCtxCreate" at 3020 gets cuCtxCreate_v2 and at 12050
 * cuCtxCreate_v4; the per-thread flag selects the _ptds/_ptsz variant where one exists.
 */
BF_EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion, unsigned long long flags,
    int *symbolStatus)
{
    if (symbol == NULL || pfn == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    int status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    void *found = bf_lookup(symbol, cudaVersion, (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0, &status);
    if (bf_trace_enabled())
    {
        fprintf(stderr, "bitfusion-trace: cuGetProcAddress %s version %d flags %llu -> %s\n",
            symbol, cudaVersion, flags, found ? "found" : "NOT FOUND");
    }
    *pfn = found;
    if (symbolStatus != NULL)
    {
        *symbolStatus = status;
    }
    return found ? CUDA_SUCCESS : CUDA_ERROR_NOT_FOUND;
}

BF_EXPORT CUresult cuGetProcAddress_v2_ptsz(const char *symbol, void **pfn, int cudaVersion,
    unsigned long long flags, int *symbolStatus)
{
    return cuGetProcAddress_v2(symbol, pfn, cudaVersion, flags | CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM,
        symbolStatus);
}

BF_EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion, unsigned long long flags)
{
    return cuGetProcAddress_v2(symbol, pfn, cudaVersion, flags, NULL);
}

BF_EXPORT CUresult cuGetExportTable(const void **ppExportTable, const unsigned char *pExportTableId)
{
    if (ppExportTable == NULL || pExportTableId == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    return bf_export_table(ppExportTable, pExportTableId);
}
