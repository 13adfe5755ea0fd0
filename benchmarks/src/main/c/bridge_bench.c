/*
 * Driver-API benchmark run through bitfusion's libcuda.so.1: the cost of one synchronous call
 * (cuCtxSynchronize) and the rate of asynchronous cuLaunchKernel calls that reach the server and run
 * (each timed batch ends with a synchronize), each after as many warm-up calls as it times, so the JVM
 * behind the library has compiled the path. Prints "name value" lines for the benchmark driver.
 * Usage: bridge_bench SYNC_CALLS LAUNCHES
 */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *EMPTY_KERNEL_PTX =
    ".version 7.0\n"
    ".target sm_75\n"
    ".address_size 64\n"
    ".visible .entry emptyKernel(.param .u32 n)\n"
    "{\n"
    "    ret;\n"
    "}\n";

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define CHECK(call) do { CUresult r = (call); if (r != CUDA_SUCCESS) { \
    const char *name = NULL; cuGetErrorName(r, &name); \
    fprintf(stderr, "%s failed: %s (%d)\n", #call, name ? name : "?", (int)r); return 1; } } while (0)

int main(int argc, char **argv)
{
    const long syncCalls = argc > 1 ? atol(argv[1]) : 20000;
    const long launches = argc > 2 ? atol(argv[2]) : 200000;
    CUdevice device;
    CUcontext context;
    CUmodule module;
    CUfunction function;

    CHECK(cuInit(0));
    CHECK(cuDeviceGet(&device, 0));
    CHECK(cuDevicePrimaryCtxRetain(&context, device));
    CHECK(cuCtxSetCurrent(context));

    for (long i = 0; i < syncCalls; i++)
    {
        CHECK(cuCtxSynchronize());
    }
    double start = now_seconds();
    for (long i = 0; i < syncCalls; i++)
    {
        CHECK(cuCtxSynchronize());
    }
    const double syncMicros = (now_seconds() - start) * 1e6 / syncCalls;

    CHECK(cuModuleLoadData(&module, EMPTY_KERNEL_PTX));
    CHECK(cuModuleGetFunction(&function, module, "emptyKernel"));
    unsigned int n = 0;
    void *args[] = { &n };
    for (long i = 0; i < launches / 2; i++)
    {
        CHECK(cuLaunchKernel(function, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL));
    }
    CHECK(cuCtxSynchronize());
    start = now_seconds();
    for (long i = 0; i < launches; i++)
    {
        CHECK(cuLaunchKernel(function, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL));
    }
    CHECK(cuCtxSynchronize());
    const double launchSeconds = now_seconds() - start;

    printf("sync_call_us %.3f\n", syncMicros);
    printf("launches_per_second %.0f\n", launches / launchSeconds);
    CHECK(cuModuleUnload(module));
    CHECK(cuDevicePrimaryCtxRelease(device));
    return 0;
}
