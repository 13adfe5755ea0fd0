// Self-verifying: cudaMemcpyAsync on a created stream from and to pinned host memory (cudaMallocHost),
// a kernel between the copies on the same stream, cudaStreamQuery and cudaStreamSynchronize.
#include <cstdio>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

__global__ void scale(float *x, float factor, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= factor;
}

int main()
{
    const int n = 1 << 16, chunks = 4, chunk = n / chunks;
    float *host, *device;
    CHECK(cudaMallocHost(&host, n * sizeof(float)));
    CHECK(cudaMalloc(&device, n * sizeof(float)));
    for (int i = 0; i < n; i++) host[i] = (float)i;
    cudaStream_t stream;
    CHECK(cudaStreamCreate(&stream));
    for (int c = 0; c < chunks; c++)
    {
        const int off = c * chunk;
        CHECK(cudaMemcpyAsync(device + off, host + off, chunk * sizeof(float), cudaMemcpyHostToDevice, stream));
        scale<<<(chunk + 255) / 256, 256, 0, stream>>>(device + off, 0.5f, chunk);
        CHECK(cudaMemcpyAsync(host + off, device + off, chunk * sizeof(float), cudaMemcpyDeviceToHost, stream));
    }
    CHECK(cudaStreamSynchronize(stream));
    CHECK(cudaStreamQuery(stream));
    for (int i = 0; i < n; i++)
    {
        if (host[i] != 0.5f * i) { printf("FAILED: host[%d] = %f, expected %f\n", i, host[i], 0.5f * i); return 1; }
    }
    CHECK(cudaStreamDestroy(stream));
    CHECK(cudaFree(device));
    CHECK(cudaFreeHost(host));
    printf("memcpy_async: %d chunks on a stream PASSED\n", chunks);
    return 0;
}
