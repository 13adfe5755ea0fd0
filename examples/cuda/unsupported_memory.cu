// Self-verifying: managed memory cannot reach a remote GPU, so cudaMallocManaged must fail with an error the
// program sees; pinned memory that is not mapped has no device pointer; ordinary memory must keep working
// afterwards. (Mapped memory works: see mapped_memory.cu.) Prints PASSED only then.
#include <cstdio>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

int main()
{
    int *managed = NULL;
    cudaError_t e = cudaMallocManaged(&managed, 1 << 20);
    printf("cudaMallocManaged: %s (%s)\n", cudaGetErrorName(e), cudaGetErrorString(e));
    if (e == cudaSuccess) { printf("FAILED: cudaMallocManaged succeeded\n"); return 1; }
    cudaGetLastError();

    int *pinned, *device_view = NULL;
    CHECK(cudaHostAlloc(&pinned, 4096, cudaHostAllocDefault));
    e = cudaHostGetDevicePointer((void **)&device_view, pinned, 0);
    printf("cudaHostGetDevicePointer: %s\n", cudaGetErrorName(e));
    if (e == cudaSuccess) { printf("FAILED: a device pointer to host memory was handed out\n"); return 1; }
    cudaGetLastError();

    int *device, value = 42, back = 0;
    CHECK(cudaMalloc(&device, sizeof(int)));
    CHECK(cudaMemcpy(device, &value, sizeof(int), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(&back, device, sizeof(int), cudaMemcpyDeviceToHost));
    if (back != 42) { printf("FAILED: ordinary memory broken after the refusals\n"); return 1; }
    CHECK(cudaFree(device));
    CHECK(cudaFreeHost(pinned));
    printf("unsupported_memory: managed memory refused PASSED\n");
    return 0;
}
