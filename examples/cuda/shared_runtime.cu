// Self-verifying, built with `nvcc -cudart shared`: libcudart.so from the toolkit loads our libcuda.so.1.
// Checks the runtime and driver versions, a reduction kernel with shared memory and atomics.
#include <cstdio>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

__global__ void sum(const int *x, unsigned long long *total, int n)
{
    __shared__ unsigned long long partial[256];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    partial[threadIdx.x] = i < n ? x[i] : 0;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1)
    {
        if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) atomicAdd(total, partial[0]);
}

int main()
{
    int runtime = 0, driver = 0;
    CHECK(cudaRuntimeGetVersion(&runtime));
    CHECK(cudaDriverGetVersion(&driver));
    if (driver < runtime) { printf("FAILED: driver %d older than runtime %d\n", driver, runtime); return 1; }
    const int n = 100000;
    static int host[n];
    for (int i = 0; i < n; i++) host[i] = i;
    int *x;
    unsigned long long *total, result = 0;
    CHECK(cudaMalloc(&x, sizeof(host)));
    CHECK(cudaMalloc(&total, sizeof(result)));
    CHECK(cudaMemcpy(x, host, sizeof(host), cudaMemcpyHostToDevice));
    CHECK(cudaMemset(total, 0, sizeof(result)));
    sum<<<(n + 255) / 256, 256>>>(x, total, n);
    CHECK(cudaMemcpy(&result, total, sizeof(result), cudaMemcpyDeviceToHost));
    const unsigned long long expected = (unsigned long long)n * (n - 1) / 2;
    if (result != expected) { printf("FAILED: sum %llu, expected %llu\n", result, expected); return 1; }
    CHECK(cudaFree(x));
    CHECK(cudaFree(total));
    printf("shared_runtime: runtime %d on driver %d, sum %llu PASSED\n", runtime, driver, result);
    return 0;
}
