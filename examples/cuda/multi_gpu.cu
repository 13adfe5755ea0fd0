// Self-verifying: two GPUs of one program (bitfusion run -n 2). Peer access is reported absent and
// refused; copies between the GPUs (cudaMemcpyPeer, and cudaMemcpyAsync from one GPU's memory to the
// other's) carry the data; a stream of one GPU waits for an event of the other; a kernel and a __device__
// variable have a copy on each GPU; the two GPUs never hand out the same address. Prints PASSED only then.
#include <cstdio>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

__global__ void fill(int *x, int base, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = base + i;
}

__device__ int increment;

__global__ void addOne(int *x, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += increment;
}

int main()
{
    const int n = 1 << 20;
    const size_t bytes = n * sizeof(int);
    static int host[1 << 20];
    int count = 0, peer = 1;
    CHECK(cudaGetDeviceCount(&count));
    if (count < 2) { printf("FAILED: %d GPU(s); run with bitfusion run -n 2\n", count); return 1; }
    CHECK(cudaDeviceCanAccessPeer(&peer, 0, 1));
    if (peer) { printf("FAILED: peer access reported between remote GPUs\n"); return 1; }
    CHECK(cudaSetDevice(0));
    const cudaError_t enabled = cudaDeviceEnablePeerAccess(1, 0);
    if (enabled != cudaErrorPeerAccessUnsupported) { printf("FAILED: enabling peer access: %s\n", cudaGetErrorName(enabled)); return 1; }
    cudaGetLastError();

    int *a0, *c0, *b1;
    CHECK(cudaMalloc(&a0, bytes));
    CHECK(cudaMalloc(&c0, bytes));
    fill<<<n / 256, 256>>>(a0, 7, n);
    CHECK(cudaGetLastError());
    CHECK(cudaSetDevice(1));
    CHECK(cudaMalloc(&b1, bytes));
    if (b1 == a0 || b1 == c0) { printf("FAILED: both GPUs gave the address %p\n", (void *)b1); return 1; }
    CHECK(cudaMemcpyPeer(b1, 1, a0, 0, bytes));

    cudaStream_t s1, s0;
    cudaEvent_t done1;
    CHECK(cudaStreamCreate(&s1));
    CHECK(cudaEventCreate(&done1));
    const int one = 1, zero = 0;   // each GPU has its own copy of a __device__ variable
    CHECK(cudaMemcpyToSymbol(increment, &one, sizeof(int)));
    CHECK(cudaSetDevice(0));
    CHECK(cudaMemcpyToSymbol(increment, &zero, sizeof(int)));
    CHECK(cudaSetDevice(1));
    addOne<<<n / 256, 256, 0, s1>>>(b1, n);
    CHECK(cudaEventRecord(done1, s1));
    CHECK(cudaSetDevice(0));
    CHECK(cudaStreamCreate(&s0));
    CHECK(cudaStreamWaitEvent(s0, done1, 0));
    CHECK(cudaMemcpyAsync(c0, b1, bytes, cudaMemcpyDefault, s0));
    CHECK(cudaMemcpyAsync(host, c0, bytes, cudaMemcpyDeviceToHost, s0));
    CHECK(cudaStreamSynchronize(s0));
    for (int i = 0; i < n; i++)
    {
        if (host[i] != 8 + i) { printf("FAILED: c0[%d] = %d, expected %d\n", i, host[i], 8 + i); return 1; }
    }
    CHECK(cudaFree(a0));
    CHECK(cudaFree(c0));
    CHECK(cudaSetDevice(1));
    CHECK(cudaFree(b1));
    printf("multi_gpu: 2 GPUs, copies between them PASSED\n");
    return 0;
}
