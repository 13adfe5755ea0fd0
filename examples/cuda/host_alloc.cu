// Self-verifying: page-locked host memory from cudaMallocHost and cudaHostAlloc (default and portable
// flags) and malloc'd memory pinned by cudaHostRegister, used for synchronous and asynchronous copies;
// cudaHostGetFlags reports the flags given; cudaFreeHost and cudaHostUnregister release them.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

__global__ void square(long long *x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = x[i] * x[i];
}

int main()
{
    const int n = 10000;
    long long *pinned, *portable, *device;
    CHECK(cudaMallocHost(&pinned, n * sizeof(long long)));
    CHECK(cudaHostAlloc(&portable, n * sizeof(long long), cudaHostAllocPortable));
    CHECK(cudaMalloc(&device, n * sizeof(long long)));
    for (int i = 0; i < n; i++) pinned[i] = i - 5000;
    CHECK(cudaMemcpy(device, pinned, n * sizeof(long long), cudaMemcpyHostToDevice));
    square<<<(n + 127) / 128, 128>>>(device, n);
    CHECK(cudaMemcpyAsync(portable, device, n * sizeof(long long), cudaMemcpyDeviceToHost, 0));
    CHECK(cudaDeviceSynchronize());
    for (int i = 0; i < n; i++)
    {
        const long long v = i - 5000;
        if (portable[i] != v * v) { printf("FAILED: [%d] = %lld, expected %lld\n", i, portable[i], v * v); return 1; }
    }
    unsigned int flags = 0;
    CHECK(cudaHostGetFlags(&flags, portable + 10));
    if ((flags & cudaHostAllocPortable) == 0) { printf("FAILED: cudaHostGetFlags says %u\n", flags); return 1; }

    long long *registered = (long long *)malloc(n * sizeof(long long));
    CHECK(cudaHostRegister(registered, n * sizeof(long long), cudaHostRegisterDefault));
    CHECK(cudaMemcpyAsync(registered, device, n * sizeof(long long), cudaMemcpyDeviceToHost, 0));
    CHECK(cudaStreamSynchronize(0));
    for (int i = 0; i < n; i++)
    {
        if (registered[i] != portable[i]) { printf("FAILED: registered[%d] = %lld\n", i, registered[i]); return 1; }
    }
    CHECK(cudaHostUnregister(registered));
    free(registered);
    CHECK(cudaFree(device));
    CHECK(cudaFreeHost(pinned));
    CHECK(cudaFreeHost(portable));
    printf("host_alloc: cudaMallocHost, cudaHostAlloc and cudaHostRegister PASSED\n");
    return 0;
}
