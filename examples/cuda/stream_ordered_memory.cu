// Self-verifying: stream-ordered allocation (cudaMallocAsync, cudaFreeAsync) on a stream, round after
// round, each buffer written by a kernel and read back before it is freed; the memory comes back each time.
// Prints PASSED only then.
#include <cstdio>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

__global__ void iota(int *x, int base, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = base + i;
}

int main()
{
    const int n = 1 << 16;
    static int host[1 << 16];
    cudaStream_t stream;
    CHECK(cudaStreamCreate(&stream));
    size_t free_before, free_after, total;
    CHECK(cudaMemGetInfo(&free_before, &total));
    for (int round = 0; round < 10; round++)
    {
        int *buffer;
        CHECK(cudaMallocAsync((void **)&buffer, n * sizeof(int), stream));
        iota<<<n / 256, 256, 0, stream>>>(buffer, round * 1000, n);
        CHECK(cudaMemcpyAsync(host, buffer, n * sizeof(int), cudaMemcpyDeviceToHost, stream));
        CHECK(cudaFreeAsync(buffer, stream));
        CHECK(cudaStreamSynchronize(stream));
        for (int i = 0; i < n; i += 997)
        {
            if (host[i] != round * 1000 + i) { printf("FAILED: round %d: x[%d] = %d\n", round, i, host[i]); return 1; }
        }
    }
    CHECK(cudaMemGetInfo(&free_after, &total));
    if (free_after != free_before) { printf("FAILED: %zu bytes free before, %zu after\n", free_before, free_after); return 1; }
    CHECK(cudaStreamDestroy(stream));
    printf("stream_ordered_memory: 10 rounds of cudaMallocAsync and cudaFreeAsync PASSED\n");
    return 0;
}
