/*
 * The private ("dark API") tables cudart asks for with cuGetExportTable. Each table is an array of
 * pointers; most start with their own size in bytes. UUIDs and slot meanings follow public notes from
 * earlier clean-room work (ZLUDA's dark_api, Cricket and similar shims); the code is ours.
 *
 *   6bd5fb6c-...-d93912fd9df9 CUDART_INTERFACE        fatbin registration, primary context (required)
 *   a094798c-...-0800200c0a66 TOOLS_RUNTIME_CALLBACK_HOOKS  profiler hooks: callable no-ops
 *   42d85a81-...-f6e78a3aecdc TOOLS_TLS               profiler thread-local hooks: callable no-ops
 *   c693336e-...-68f355d89593 CONTEXT_LOCAL_STORAGE_INTERFACE_V0301  per-context key/value store
 *   263e8860-...-bbd5006dfa7e CONTEXT_CHECKS          "is this context usable": always yes
 *   f8cff951-...-fb469e7c0dd9 asked before cuInit: NOT_FOUND makes cudart take its normal start-up path
 *   d4082055-...-ba123c66e1f2 INTEGRITY_CHECK         HMAC the runtime verifies (integrity.c)
 *   anything else: NOT_FOUND, logged once per table
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "forwarded_calls.h"

#define FATBIN_WRAPPER_MAGIC 0x466243b1u

typedef struct
{
    unsigned int magic;
    unsigned int version;
    const void *data;
    const void *filename_or_fatbins;
} fatbin_wrapper;

static void trace(const char *what, CUresult status)
{
    if (bf_trace_enabled())
    {
        fprintf(stderr, "bitfusion-trace: %s -> %d\n", what, status);
    }
}

/* ---------------------------------------------------------------- CUDART_INTERFACE */

static CUresult module_from_wrapper(void **module, const fatbin_wrapper *wrapper)
{
    if (module == NULL || wrapper == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (wrapper->magic != FATBIN_WRAPPER_MAGIC || wrapper->data == NULL)
    {
        return CUDA_ERROR_INVALID_IMAGE;
    }
    return cuModuleLoadData(module, wrapper->data);
}

static CUresult cudart_get_module_from_cubin(void **module, const fatbin_wrapper *wrapper)
{
    const CUresult status = module_from_wrapper(module, wrapper);
    trace("CUDART_INTERFACE.get_module_from_cubin", status);
    return status;
}

/* cudart calls no cuCtxSetCurrent after this slot: the context it hands back must be current already. */
static CUresult cudart_primary_context(void **context, CUdevice device)
{
    CUresult status = cuDevicePrimaryCtxRetain(context, device);
    void *current = NULL;
    if (status == CUDA_SUCCESS && cuCtxGetCurrent(&current) == CUDA_SUCCESS && current == NULL)
    {
        status = cuCtxSetCurrent(*context);
    }
    trace("CUDART_INTERFACE.primary_context", status);
    return status;
}

static CUresult cudart_get_module_from_cubin_ext1(void **module, const fatbin_wrapper *wrapper, void *arg3,
    void *arg4, unsigned int arg5)
{
    (void)arg3; (void)arg4; (void)arg5;
    const CUresult status = module_from_wrapper(module, wrapper);
    trace("CUDART_INTERFACE.get_module_from_cubin_ext1", status);
    return status;
}

static CUresult cudart_interface_fn7(size_t arg)
{
    (void)arg;
    trace("CUDART_INTERFACE.fn7", CUDA_SUCCESS);
    return CUDA_SUCCESS;
}

static CUresult cudart_get_module_from_cubin_ext2(const void *fatbin_header, void **module, void *arg3,
    void *arg4, unsigned int arg5)
{
    (void)arg3; (void)arg4; (void)arg5;
    if (module == NULL || fatbin_header == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    const CUresult status = cuModuleLoadData(module, fatbin_header);
    trace("CUDART_INTERFACE.get_module_from_cubin_ext2", status);
    return status;
}

static CUresult cudart_load_compilers(void)
{
    trace("CUDART_INTERFACE.load_compilers", CUDA_SUCCESS);
    return CUDA_SUCCESS;
}

static const void *cudart_interface[13];

const void *bf_cudart_interface_table(void)
{
    return cudart_interface;
}

const void *bf_integrity_check_table(void);

static const void *cudart_interface[13] = {
    (const void *)(13 * sizeof(void *)),
    (const void *)cudart_get_module_from_cubin,
    (const void *)cudart_primary_context,
    NULL, NULL, NULL,
    (const void *)cudart_get_module_from_cubin_ext1,
    (const void *)cudart_interface_fn7,
    (const void *)cudart_get_module_from_cubin_ext2,
    NULL, NULL, NULL,
    (const void *)cudart_load_compilers,
};

/* ---------------------------------------------------------------- tools hooks: no profiler attached */

static unsigned char hooks_buffer1[1024];
static unsigned char hooks_buffer2[16];

static void hooks_event(unsigned int event, void *data)
{
    (void)event; (void)data;
}

static void hooks_span(void *context, void *data)
{
    (void)context; (void)data;
}

static void hooks_get_buffer1(void **buffer, size_t *size)
{
    if (buffer != NULL) *buffer = hooks_buffer1;
    if (size != NULL) *size = sizeof(hooks_buffer1);
}

static void hooks_get_buffer2(void **buffer, size_t *size)
{
    if (buffer != NULL) *buffer = hooks_buffer2;
    if (size != NULL) *size = 14;
}

static const void *tools_runtime_callback_hooks[7] = {
    (const void *)(7 * sizeof(void *)),
    (const void *)hooks_event,
    (const void *)hooks_get_buffer1,
    NULL,
    (const void *)hooks_span,
    NULL,
    (const void *)hooks_get_buffer2,
};

static void tools_tls_callback(void *record)
{
    (void)record;
}

static const void *tools_tls[4] = {
    (const void *)(4 * sizeof(void *)),
    NULL,
    (const void *)tools_tls_callback,
    NULL,
};

/* ---------------------------------------------------------------- context-local storage */

#define STORAGE_SLOTS 256

typedef struct
{
    void *context;
    void *key;
    void *value;
} storage_entry;

static storage_entry storage[STORAGE_SLOTS];
static pthread_mutex_t storage_lock = PTHREAD_MUTEX_INITIALIZER;

static CUresult storage_context(void **context)
{
    if (*context != NULL)
    {
        return CUDA_SUCCESS;
    }
    const CUresult status = cuCtxGetCurrent(context);
    if (status != CUDA_SUCCESS)
    {
        return status;
    }
    return *context == NULL ? CUDA_ERROR_INVALID_CONTEXT : CUDA_SUCCESS;
}

static CUresult storage_put(void *context, void *key, void *value, void *destructor)
{
    (void)destructor;
    const CUresult status = storage_context(&context);
    if (status != CUDA_SUCCESS)
    {
        return status;
    }
    CUresult result = CUDA_ERROR_UNKNOWN;
    pthread_mutex_lock(&storage_lock);
    storage_entry *free_entry = NULL;
    for (int i = 0; i < STORAGE_SLOTS; i++)
    {
        if (storage[i].context == context && storage[i].key == key)
        {
            storage[i].value = value;
            result = CUDA_SUCCESS;
            break;
        }
        if (storage[i].context == NULL && free_entry == NULL)
        {
            free_entry = &storage[i];
        }
    }
    if (result != CUDA_SUCCESS && free_entry != NULL)
    {
        free_entry->context = context;
        free_entry->key = key;
        free_entry->value = value;
        result = CUDA_SUCCESS;
    }
    pthread_mutex_unlock(&storage_lock);
    return result;
}

static CUresult storage_delete(void *context, void *key)
{
    const CUresult status = storage_context(&context);
    if (status != CUDA_SUCCESS)
    {
        return status;
    }
    pthread_mutex_lock(&storage_lock);
    for (int i = 0; i < STORAGE_SLOTS; i++)
    {
        if (storage[i].context == context && storage[i].key == key)
        {
            memset(&storage[i], 0, sizeof(storage[i]));
        }
    }
    pthread_mutex_unlock(&storage_lock);
    return CUDA_SUCCESS;
}

static CUresult storage_get(void **value, void *context, void *key)
{
    if (value == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    const CUresult status = storage_context(&context);
    if (status != CUDA_SUCCESS)
    {
        return status;
    }
    CUresult result = CUDA_ERROR_NOT_FOUND;
    *value = NULL;
    pthread_mutex_lock(&storage_lock);
    for (int i = 0; i < STORAGE_SLOTS; i++)
    {
        if (storage[i].context == context && storage[i].key == key)
        {
            *value = storage[i].value;
            result = CUDA_SUCCESS;
            break;
        }
    }
    pthread_mutex_unlock(&storage_lock);
    return result;
}

/* This one has no size header: slot 0 is already a function. */
static const void *context_local_storage[4] = {
    (const void *)storage_put,
    (const void *)storage_delete,
    (const void *)storage_get,
    NULL,
};

/* ---------------------------------------------------------------- context checks */

static CUresult context_check(void *context, unsigned int *result, const void **detail)
{
    (void)context; (void)detail;
    if (result != NULL)
    {
        *result = 0;
    }
    return CUDA_SUCCESS;
}

static unsigned int context_check_flags(void)
{
    return 0;
}

static const void *context_checks[4] = {
    (const void *)(4 * sizeof(void *)),
    NULL,
    (const void *)context_check,
    (const void *)context_check_flags,
};

/* ---------------------------------------------------------------- lookup */

typedef struct
{
    const char *name;
    unsigned char uuid[16];
    const void *const *table;
} known_table;

static const known_table tables[] = {
    {"CUDART_INTERFACE",
        {0x6b, 0xd5, 0xfb, 0x6c, 0x5b, 0xf4, 0xe7, 0x4a, 0x89, 0x87, 0xd9, 0x39, 0x12, 0xfd, 0x9d, 0xf9},
        cudart_interface},
    {"TOOLS_RUNTIME_CALLBACK_HOOKS",
        {0xa0, 0x94, 0x79, 0x8c, 0x2e, 0x74, 0x2e, 0x74, 0x93, 0xf2, 0x08, 0x00, 0x20, 0x0c, 0x0a, 0x66},
        tools_runtime_callback_hooks},
    {"TOOLS_TLS",
        {0x42, 0xd8, 0x5a, 0x81, 0x23, 0xf6, 0xcb, 0x47, 0x82, 0x98, 0xf6, 0xe7, 0x8a, 0x3a, 0xec, 0xdc},
        tools_tls},
    {"CONTEXT_LOCAL_STORAGE_INTERFACE_V0301",
        {0xc6, 0x93, 0x33, 0x6e, 0x11, 0x21, 0xdf, 0x11, 0xa8, 0xc3, 0x68, 0xf3, 0x55, 0xd8, 0x95, 0x93},
        context_local_storage},
    {"CONTEXT_CHECKS",
        {0x26, 0x3e, 0x88, 0x60, 0x7c, 0xd2, 0x61, 0x43, 0x92, 0xf6, 0xbb, 0xd5, 0x00, 0x6d, 0xfa, 0x7e},
        context_checks},
    {"INTEGRITY_CHECK",
        {0xd4, 0x08, 0x20, 0x55, 0xbd, 0xe6, 0x70, 0x4b, 0x8d, 0x34, 0xba, 0x12, 0x3c, 0x66, 0xe1, 0xf2},
        NULL},
    /* Asked before cuInit; a table here would let cudart skip its normal start-up, which we rely on. */
    {"CUDART_SKIP_INIT",
        {0xf8, 0xcf, 0xf9, 0x51, 0x21, 0x46, 0x8b, 0x4e, 0xb9, 0xe2, 0xfb, 0x46, 0x9e, 0x7c, 0x0d, 0xd9},
        NULL},
};

#define UNKNOWN_LOG_SLOTS 32
static unsigned char unknown_logged[UNKNOWN_LOG_SLOTS][16];
static int unknown_logged_count;
static pthread_mutex_t unknown_lock = PTHREAD_MUTEX_INITIALIZER;

static void log_unknown_once(const unsigned char *uuid)
{
    pthread_mutex_lock(&unknown_lock);
    for (int i = 0; i < unknown_logged_count; i++)
    {
        if (memcmp(unknown_logged[i], uuid, 16) == 0)
        {
            pthread_mutex_unlock(&unknown_lock);
            return;
        }
    }
    if (unknown_logged_count < UNKNOWN_LOG_SLOTS)
    {
        memcpy(unknown_logged[unknown_logged_count++], uuid, 16);
    }
    pthread_mutex_unlock(&unknown_lock);
    fprintf(stderr, "bitfusion: cuGetExportTable: table %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
        "%02x%02x%02x%02x%02x%02x is not provided (CUDA_ERROR_NOT_FOUND)\n",
        uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7],
        uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

CUresult bf_export_table(const void **table, const unsigned char *uuid)
{
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
    {
        if (memcmp(tables[i].uuid, uuid, 16) == 0)
        {
            if (strcmp(tables[i].name, "INTEGRITY_CHECK") == 0)
            {
                *table = bf_integrity_check_table();
                return CUDA_SUCCESS;
            }
            if (bf_trace_enabled())
            {
                fprintf(stderr, "bitfusion-trace: cuGetExportTable %s -> %s\n", tables[i].name,
                    tables[i].table ? "served" : "NOT_FOUND");
            }
            *table = tables[i].table;
            return tables[i].table ? CUDA_SUCCESS : CUDA_ERROR_NOT_FOUND;
        }
    }
    *table = NULL;
    log_unknown_once(uuid);
    return CUDA_ERROR_NOT_FOUND;
}
