// Self-verifying: cudaMemset (bytes, at an offset) and cudaMemsetAsync on a stream.
#include <cstdio>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

int main()
{
    const int n = 100000;
    static unsigned char host[n];
    unsigned char *device;
    CHECK(cudaMalloc(&device, n));
    CHECK(cudaMemset(device, 0xab, n));
    CHECK(cudaMemset(device + 1001, 0x11, 333));
    cudaStream_t stream;
    CHECK(cudaStreamCreate(&stream));
    CHECK(cudaMemsetAsync(device + 50000, 0x7f, 17, stream));
    CHECK(cudaStreamSynchronize(stream));
    CHECK(cudaMemcpy(host, device, n, cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++)
    {
        const unsigned char expected = i >= 1001 && i < 1334 ? 0x11 : i >= 50000 && i < 50017 ? 0x7f : 0xab;
        if (host[i] != expected) { printf("FAILED: byte %d = 0x%02x, expected 0x%02x\n", i, host[i], expected); return 1; }
    }
    CHECK(cudaStreamDestroy(stream));
    CHECK(cudaFree(device));
    printf("memset: %d bytes PASSED\n", n);
    return 0;
}
