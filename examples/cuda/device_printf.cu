// Self-verifying as far as the program can see: kernels call printf and the launch completes without
// error. The test checks that every device line reached the terminal, in order after the host line.
#include <cstdio>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

__global__ void hello(int base)
{
    printf("device printf: block %d thread %d value %d\n", blockIdx.x, threadIdx.x, base + blockIdx.x * blockDim.x + threadIdx.x);
}

int main()
{
    printf("host: launching\n");
    fflush(stdout);
    hello<<<2, 3>>>(40);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    fflush(stdout);
    printf("device_printf: PASSED\n");
    return 0;
}
