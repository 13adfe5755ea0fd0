// Self-verifying: device properties and memory info show the slice; memory round-trips intact.
// Usage: device_info [EXPECTED_TOTAL_MIB]. Prints PASSED or FAILED.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

int main(int argc, char **argv)
{
    int count = 0;
    CHECK(cudaGetDeviceCount(&count));
    if (count < 1) { printf("FAILED: no device\n"); return 1; }
    cudaDeviceProp prop;
    CHECK(cudaGetDeviceProperties(&prop, 0));
    size_t free_bytes = 0, total_bytes = 0;
    CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    printf("device 0: %s, compute %d.%d, %zu MiB total (properties), %zu MiB total / %zu MiB free (cudaMemGetInfo)\n",
        prop.name, prop.major, prop.minor, prop.totalGlobalMem >> 20, total_bytes >> 20, free_bytes >> 20);
    if (prop.totalGlobalMem != total_bytes) { printf("FAILED: properties and cudaMemGetInfo disagree\n"); return 1; }
    if (argc > 1 && (total_bytes >> 20) != strtoull(argv[1], NULL, 10))
    {
        printf("FAILED: total %zu MiB, expected %s MiB\n", total_bytes >> 20, argv[1]);
        return 1;
    }
    const size_t bytes = 1 << 20;
    unsigned char *host = (unsigned char *)malloc(bytes), *back = (unsigned char *)malloc(bytes);
    for (size_t i = 0; i < bytes; i++) host[i] = (unsigned char)(i * 7 + 3);
    void *device;
    CHECK(cudaMalloc(&device, bytes));
    CHECK(cudaMemcpy(device, host, bytes, cudaMemcpyHostToDevice));
    memset(back, 0, bytes);
    CHECK(cudaMemcpy(back, device, bytes, cudaMemcpyDeviceToHost));
    CHECK(cudaFree(device));
    if (memcmp(host, back, bytes) != 0) { printf("FAILED: 1 MiB round trip differs\n"); return 1; }
    void *too_big;
    if (cudaMalloc(&too_big, total_bytes + (1ull << 20)) == cudaSuccess) { printf("FAILED: allocation past the slice succeeded\n"); return 1; }
    cudaGetLastError();
    printf("device_info: PASSED\n");
    return 0;
}
