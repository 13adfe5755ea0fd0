// What frameworks ask before they launch: stream capture status, stream priority range, occupancy of a
// kernel, the device's PCI bus id, a kernel's dynamic shared memory limit. Each answer is checked against
// what the device reports.
#include <cstdio>
#include <cstring>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e = (call); if (e != cudaSuccess) { \
    std::printf("%s failed: %s\n", #call, cudaGetErrorString(e)); std::printf("runtime_queries: FAILED\n"); return 1; } } while (0)

__global__ void scale(float *data, float factor, int n)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
    {
        data[i] *= factor;
    }
}

int main()
{
    int failures = 0;
    cudaStream_t stream;
    CHECK(cudaStreamCreate(&stream));
    cudaStreamCaptureStatus capture;
    CHECK(cudaStreamIsCapturing(stream, &capture));
    if (capture != cudaStreamCaptureStatusNone)
    {
        std::printf("wrong: a new stream reports capture status %d\n", (int)capture);
        failures++;
    }

    int least = 1;
    int greatest = 1;
    CHECK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
    if (least < greatest)
    {
        std::printf("wrong: priority range %d..%d\n", least, greatest);
        failures++;
    }

    cudaDeviceProp properties;
    CHECK(cudaGetDeviceProperties(&properties, 0));
    int blocks = 0;
    CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, scale, 256, 0));
    const int threadLimit = properties.maxThreadsPerMultiProcessor / 256;
    if (blocks < 1 || blocks > threadLimit)
    {
        std::printf("wrong: %d blocks of 256 threads per multiprocessor (thread limit %d)\n", blocks, threadLimit);
        failures++;
    }

    CHECK(cudaFuncSetAttribute(scale, cudaFuncAttributeMaxDynamicSharedMemorySize, 16 * 1024));
    if (cudaFuncSetAttribute(scale, cudaFuncAttributeMaxDynamicSharedMemorySize, 100 * 1024) == cudaSuccess)
    {
        std::printf("wrong: a dynamic shared memory opt-in past the device's limit was accepted\n");
        failures++;
    }
    cudaGetLastError();

    char busId[32] = { 0 };
    CHECK(cudaDeviceGetPCIBusId(busId, sizeof(busId), 0));
    if (std::strchr(busId, ':') == nullptr)
    {
        std::printf("wrong: PCI bus id '%s'\n", busId);
        failures++;
    }

    CHECK(cudaStreamDestroy(stream));
    std::printf("runtime_queries: %d blocks/SM at 256 threads, priorities %d..%d, bus %s %s\n",
        blocks, least, greatest, busId, failures == 0 ? "PASSED" : "FAILED");
    return failures == 0 ? 0 : 1;
}
