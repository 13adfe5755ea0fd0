// Self-verifying: cudaDeviceReset frees the context's memory (cudaMemGetInfo says so) and the device is
// usable again afterwards: a fresh allocation, kernel and copy give the right result.
#include <cstdio>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

__global__ void iota(int *x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = i;
}

int main()
{
    size_t free0, total, free1, free2;
    CHECK(cudaMemGetInfo(&free0, &total));
    void *leak;
    CHECK(cudaMalloc(&leak, 64 << 20));
    CHECK(cudaMemGetInfo(&free1, &total));
    if (free0 - free1 < (64 << 20)) { printf("FAILED: 64 MiB allocation not counted (%zu -> %zu)\n", free0, free1); return 1; }
    CHECK(cudaDeviceReset());
    CHECK(cudaMemGetInfo(&free2, &total));
    if (free2 != free0) { printf("FAILED: after reset %zu bytes free, expected %zu\n", free2, free0); return 1; }
    const int n = 1000;
    int *x;
    static int host[n];
    CHECK(cudaMalloc(&x, n * sizeof(int)));
    iota<<<(n + 255) / 256, 256>>>(x, n);
    CHECK(cudaGetLastError());
    CHECK(cudaMemcpy(host, x, sizeof(host), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++) if (host[i] != i) { printf("FAILED: x[%d] = %d after reset\n", i, host[i]); return 1; }
    CHECK(cudaFree(x));
    CHECK(cudaDeviceReset());
    printf("device_reset: memory freed, device usable again PASSED\n");
    return 0;
}
