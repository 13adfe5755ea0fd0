// cudaPointerGetAttributes on device memory, page-locked host memory and ordinary host memory: each is
// reported as what it is, with its own pointer, and an unknown pointer is "unregistered", not an error.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e = (call); if (e != cudaSuccess) { \
    std::printf("%s failed: %s\n", #call, cudaGetErrorString(e)); std::printf("pointer_attributes: FAILED\n"); return 1; } } while (0)

static int failures = 0;

static void expect(bool condition, const char *what)
{
    if (!condition)
    {
        std::printf("wrong: %s\n", what);
        failures++;
    }
}

int main()
{
    char *device = nullptr;
    char *pinned = nullptr;
    char *ordinary = static_cast<char *>(std::malloc(4096));
    CHECK(cudaMalloc(&device, 1 << 20));
    CHECK(cudaMallocHost(&pinned, 1 << 16));

    cudaPointerAttributes attributes;
    CHECK(cudaPointerGetAttributes(&attributes, device + 4096));
    expect(attributes.type == cudaMemoryTypeDevice, "device memory type");
    expect(attributes.device == 0, "device ordinal");
    expect(attributes.devicePointer == device + 4096, "device pointer");
    expect(attributes.hostPointer == nullptr, "no host alias for device memory");

    CHECK(cudaPointerGetAttributes(&attributes, pinned + 100));
    expect(attributes.type == cudaMemoryTypeHost, "page-locked memory type");
    expect(attributes.hostPointer == pinned + 100, "host pointer");

    CHECK(cudaPointerGetAttributes(&attributes, ordinary));
    expect(attributes.type == cudaMemoryTypeUnregistered, "ordinary memory is unregistered");

    CHECK(cudaFree(device));
    CHECK(cudaFreeHost(pinned));
    std::free(ordinary);
    std::printf("pointer_attributes: %s\n", failures == 0 ? "PASSED" : "FAILED");
    return failures == 0 ? 0 : 1;
}
