// Self-verifying: mapped (zero-copy) host memory on a remote GPU. A kernel reads what the host wrote before
// the launch and writes through the device pointer (or the host address itself, as unified addressing
// allows); after a synchronisation the host sees the kernel's writes, and host writes the kernel did not
// touch survive. The same for registered memory. Prints PASSED only then.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)
#define EXPECT(cond, ...) do { if (!(cond)) { printf("FAILED: " __VA_ARGS__); printf("\n"); return 1; } } while (0)

__global__ void doubleAndAddOne(int *values, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) values[i] = values[i] * 2 + 1;
}

__global__ void store(int *slot, int value) { *slot = value; }

int main()
{
    const int n = 32;
    int *host, *device;
    CHECK(cudaHostAlloc(&host, 64 * sizeof(int), cudaHostAllocMapped));
    for (int i = 0; i < 64; i++) host[i] = i;
    CHECK(cudaHostGetDevicePointer((void **)&device, host, 0));
    doubleAndAddOne<<<1, n>>>(device, n);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    for (int i = 0; i < n; i++) EXPECT(host[i] == 2 * i + 1, "host[%d] = %d after the kernel, expected %d", i, host[i], 2 * i + 1);

    host[40] = 1234;                 // written by the host alone
    store<<<1, 1>>>(device + 50, 77);  // written by the GPU alone
    CHECK(cudaStreamSynchronize(0));
    EXPECT(host[50] == 77, "host[50] = %d, the kernel stored 77", host[50]);
    EXPECT(host[40] == 1234, "host[40] = %d, the host's own write was lost", host[40]);
    EXPECT(host[41] == 41, "host[41] = %d, untouched memory changed", host[41]);

    // Under unified addressing programs may hand kernels the host address itself.
    store<<<1, 1>>>(host + 60, 99);
    CHECK(cudaDeviceSynchronize());
    EXPECT(host[60] == 99, "host[60] = %d, the kernel given the host address stored 99", host[60]);

    int *registered = NULL, *registered_device = NULL;
    EXPECT(posix_memalign((void **)&registered, 4096, 4096) == 0, "posix_memalign");
    for (int i = 0; i < 1024; i++) registered[i] = 1000 + i;
    CHECK(cudaHostRegister(registered, 4096, cudaHostRegisterMapped));
    CHECK(cudaHostGetDevicePointer((void **)&registered_device, registered, 0));
    doubleAndAddOne<<<4, 256>>>(registered_device, 1024);
    CHECK(cudaDeviceSynchronize());
    for (int i = 0; i < 1024; i++)
        EXPECT(registered[i] == 2 * (1000 + i) + 1, "registered[%d] = %d after the kernel", i, registered[i]);
    CHECK(cudaHostUnregister(registered));
    free(registered);
    CHECK(cudaFreeHost(host));
    printf("mapped_memory: kernel and host writes seen on both sides PASSED\n");
    return 0;
}
