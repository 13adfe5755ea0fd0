/*
 * Self-verifying driver-API program in C, built with gcc against our libcuda.so (no cudart):
 * cuInit, devices, cuCtxCreate/SetCurrent/Destroy, cuModuleLoadData with PTX text and with a fatbin,
 * cuModuleGetFunction/GetGlobal, cuLaunchKernel on the default and a created stream (parameters by pointer
 * and packed), cuLaunchKernelEx with a cluster shape, cuModuleLoad and cuLibraryLoadFromFile, cuMemAlloc,
 * cuMemcpyHtoD/DtoH/DtoD (sync and async), cuMemsetD32, cuStreamSynchronize, cuMemGetInfo.
 * Usage: driver_api KERNELS.ptx KERNELS.fatbin. Prints PASSED or FAILED.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cuda.h>

#define CHECK(call) do { CUresult r_ = (call); if (r_ != CUDA_SUCCESS) { const char *n_ = "?"; \
    cuGetErrorName(r_, &n_); printf("FAILED: %s: %s (%d)\n", #call, n_, (int)r_); return 1; } } while (0)

static char *read_file(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) return NULL;
    fseek(file, 0, SEEK_END);
    const long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *data = malloc(length + 1);
    if (fread(data, 1, length, file) != (size_t)length) { fclose(file); free(data); return NULL; }
    fclose(file);
    data[length] = 0;
    *size = length;
    return data;
}

/* saxpy from one module, checked on the host. */
static int run_saxpy(CUmodule module, CUstream stream, const char *what)
{
    enum { N = 3000 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++) { x[i] = (float)i; y[i] = 1.0f; }
    CUfunction saxpy;
    CHECK(cuModuleGetFunction(&saxpy, module, "saxpy"));
    CUdeviceptr dx, dy;
    CHECK(cuMemAlloc(&dx, sizeof(x)));
    CHECK(cuMemAlloc(&dy, sizeof(y)));
    CHECK(cuMemcpyHtoDAsync(dx, x, sizeof(x), stream));
    CHECK(cuMemcpyHtoDAsync(dy, y, sizeof(y), stream));
    float a = 2.0f;
    int n = N;
    void *params[] = { &a, &dx, &dy, &n };
    CHECK(cuLaunchKernel(saxpy, (N + 127) / 128, 1, 1, 128, 1, 1, 0, stream, params, NULL));
    CHECK(cuMemcpyDtoHAsync(y, dy, sizeof(y), stream));
    CHECK(cuStreamSynchronize(stream));
    for (int i = 0; i < N; i++)
    {
        if (y[i] != 2.0f * i + 1.0f) { printf("FAILED: %s: y[%d] = %f\n", what, i, y[i]); return 1; }
    }
    CHECK(cuMemFree(dx));
    CHECK(cuMemFree(dy));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) { printf("usage: driver_api KERNELS.ptx KERNELS.fatbin\n"); return 2; }
    size_t ptx_size, fatbin_size;
    char *ptx = read_file(argv[1], &ptx_size), *fatbin = read_file(argv[2], &fatbin_size);
    if (ptx == NULL || fatbin == NULL) { printf("FAILED: cannot read %s or %s\n", argv[1], argv[2]); return 1; }

    CHECK(cuInit(0));
    int count = 0, version = 0;
    CHECK(cuDeviceGetCount(&count));
    CHECK(cuDriverGetVersion(&version));
    if (count < 1) { printf("FAILED: no device\n"); return 1; }
    CUdevice device;
    char name[128];
    size_t total_mem;
    CHECK(cuDeviceGet(&device, 0));
    CHECK(cuDeviceGetName(name, sizeof(name), device));
    CHECK(cuDeviceTotalMem(&total_mem, device));
    printf("driver %d, device 0: %s, %zu MiB\n", version, name, total_mem >> 20);

    CUcontext context, current;
    CHECK(cuCtxCreate(&context, NULL, 0, device));
    CHECK(cuCtxGetCurrent(&current));
    if (current != context) { printf("FAILED: the new context is not current\n"); return 1; }
    size_t free_mem, total_info;
    CHECK(cuMemGetInfo(&free_mem, &total_info));
    if (total_info != total_mem) { printf("FAILED: cuMemGetInfo total %zu != %zu\n", total_info, total_mem); return 1; }

    CUmodule from_ptx, from_fatbin;
    CHECK(cuModuleLoadData(&from_ptx, ptx));
    CHECK(cuModuleLoadData(&from_fatbin, fatbin));
    CUstream stream;
    CHECK(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
    unsigned int stream_flags = 0;
    CUcontext stream_context = NULL;
    CUdevice stream_device = -1;
    unsigned long long stream_id = 0, default_id = 0;
    CHECK(cuStreamGetFlags(stream, &stream_flags));
    CHECK(cuStreamGetCtx(stream, &stream_context));
    CHECK(cuStreamGetDevice(stream, &stream_device));
    CHECK(cuStreamGetId(stream, &stream_id));
    CHECK(cuStreamGetId(NULL, &default_id));
    if (stream_flags != CU_STREAM_NON_BLOCKING || stream_context != context || stream_device != device ||
        stream_id == default_id)
    {
        printf("FAILED: stream flags %u, context %p, device %d, id %llu (default stream %llu)\n", stream_flags,
            (void *)stream_context, stream_device, stream_id, default_id);
        return 1;
    }
    if (run_saxpy(from_ptx, NULL, "PTX module, default stream")) return 1;
    if (run_saxpy(from_fatbin, stream, "fatbin module, created stream")) return 1;

    /* fill, cuMemsetD32 and a device-to-device copy. */
    enum { M = 1000 };
    static int host[M];
    CUdeviceptr a, b;
    CHECK(cuMemAlloc(&a, sizeof(host)));
    CHECK(cuMemAlloc(&b, sizeof(host)));
    CHECK(cuMemsetD32(b, 0xdeadbeef, M));
    CUfunction fill;
    CHECK(cuModuleGetFunction(&fill, from_fatbin, "fill"));
    int value = 100, m = M / 2;
    void *fill_params[] = { &a, &value, &m };
    CHECK(cuLaunchKernel(fill, 4, 1, 1, 128, 1, 1, 0, NULL, fill_params, NULL));
    CHECK(cuMemcpyDtoD(b, a, sizeof(int) * (M / 2)));
    CHECK(cuMemcpyDtoH(host, b, sizeof(host)));
    for (int i = 0; i < M; i++)
    {
        const int expected = i < M / 2 ? 100 + i : (int)0xdeadbeef;
        if (host[i] != expected) { printf("FAILED: b[%d] = %d, expected %d\n", i, host[i], expected); return 1; }
    }

    /* A __device__ global, found by name and written by atomics. */
    CUfunction count_fn;
    CUdeviceptr counter;
    size_t counter_size;
    CHECK(cuModuleGetFunction(&count_fn, from_ptx, "count"));
    CHECK(cuModuleGetGlobal(&counter, &counter_size, from_ptx, "counter"));
    if (counter_size != sizeof(int)) { printf("FAILED: counter is %zu bytes\n", counter_size); return 1; }
    int zero = 0, times = 50, counted = 0;
    CHECK(cuMemcpyHtoD(counter, &zero, sizeof(int)));
    void *count_params[] = { &times };
    CHECK(cuLaunchKernel(count_fn, 3, 1, 1, 64, 1, 1, 0, stream, count_params, NULL));
    CHECK(cuStreamSynchronize(stream));
    CHECK(cuMemcpyDtoH(&counted, counter, sizeof(int)));
    if (counted != 150) { printf("FAILED: counter %d, expected 150\n", counted); return 1; }

    /* The other ways to pass parameters: one packed buffer (extra), and cuLaunchKernelEx with a cluster
       shape of a single block, which every GPU from compute capability 9.0 on honours and all accept. */
    struct { CUdeviceptr x; int value; int n; } packed = { a, 7, M };
    size_t packed_size = sizeof(packed);
    void *extra[] = { CU_LAUNCH_PARAM_BUFFER_POINTER, &packed, CU_LAUNCH_PARAM_BUFFER_SIZE, &packed_size,
        CU_LAUNCH_PARAM_END };
    CHECK(cuLaunchKernel(fill, 8, 1, 1, 128, 1, 1, 0, NULL, NULL, extra));
    CHECK(cuMemcpyDtoH(host, a, sizeof(host)));
    for (int i = 0; i < M; i++)
    {
        if (host[i] != 7 + i) { printf("FAILED: packed launch: a[%d] = %d, expected %d\n", i, host[i], 7 + i); return 1; }
    }
    CUlaunchAttribute cluster = { .id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION };
    cluster.value.clusterDim.x = cluster.value.clusterDim.y = cluster.value.clusterDim.z = 1;
    CUlaunchConfig config = { 8, 1, 1, 128, 1, 1, 0, stream, &cluster, 1 };
    int ex_value = 500, ex_n = M;
    void *ex_params[] = { &a, &ex_value, &ex_n };
    CHECK(cuLaunchKernelEx(&config, fill, ex_params, NULL));
    CHECK(cuStreamSynchronize(stream));
    CHECK(cuMemcpyDtoH(host, a, sizeof(host)));
    for (int i = 0; i < M; i++)
    {
        if (host[i] != 500 + i) { printf("FAILED: cluster launch: a[%d] = %d, expected %d\n", i, host[i], 500 + i); return 1; }
    }

    /* What a function is, as the driver tells it. */
    const char *fill_name = NULL;
    CUmodule fill_module = NULL;
    size_t value_offset = 0, value_size = 0;
    CHECK(cuFuncGetName(&fill_name, fill));
    CHECK(cuFuncGetModule(&fill_module, fill));
    CHECK(cuFuncGetParamInfo(fill, 1, &value_offset, &value_size));
    if (strcmp(fill_name, "fill") != 0 || fill_module != from_fatbin || value_offset != 8 || value_size != 4)
    {
        printf("FAILED: fill is '%s' in %p, parameter 1 at %zu, %zu bytes\n", fill_name, (void *)fill_module,
            value_offset, value_size);
        return 1;
    }
    if (cuFuncGetParamInfo(fill, 3, &value_offset, &value_size) != CUDA_ERROR_INVALID_VALUE)
    {
        printf("FAILED: fill has no parameter 3\n");
        return 1;
    }

    /* Modules and libraries straight from their files. */
    CUmodule from_file;
    CUfunction file_saxpy;
    CHECK(cuModuleLoad(&from_file, argv[1]));
    CHECK(cuModuleGetFunction(&file_saxpy, from_file, "saxpy"));
    CHECK(cuModuleUnload(from_file));
    CUlibrary library;
    CUkernel library_fill;
    CUfunction library_fill_function;
    CHECK(cuLibraryLoadFromFile(&library, argv[2], NULL, NULL, 0, NULL, NULL, 0));
    CHECK(cuLibraryGetKernel(&library_fill, library, "fill"));
    CHECK(cuKernelGetFunction(&library_fill_function, library_fill));
    int library_value = 9000;
    void *library_params[] = { &a, &library_value, &ex_n };
    CHECK(cuLaunchKernel(library_fill_function, 8, 1, 1, 128, 1, 1, 0, NULL, library_params, NULL));
    CHECK(cuMemcpyDtoH(host, a, sizeof(host)));
    for (int i = 0; i < M; i++)
    {
        if (host[i] != 9000 + i) { printf("FAILED: library launch: a[%d] = %d\n", i, host[i]); return 1; }
    }
    CHECK(cuLibraryUnload(library));
    CUmodule missing;
    const CUresult not_found = cuModuleLoad(&missing, "/nonexistent/kernels.ptx");
    if (not_found != CUDA_ERROR_FILE_NOT_FOUND) { printf("FAILED: cuModuleLoad of a missing file returned %d\n", (int)not_found); return 1; }

    CHECK(cuMemFree(a));
    CHECK(cuMemFree(b));
    CHECK(cuStreamDestroy(stream));
    CHECK(cuModuleUnload(from_ptx));
    CHECK(cuModuleUnload(from_fatbin));
    CHECK(cuCtxSynchronize());
    CHECK(cuCtxDestroy(context));
    free(ptx);
    free(fatbin);
    printf("driver_api: PTX and fatbin modules, streams, memory PASSED\n");
    return 0;
}
