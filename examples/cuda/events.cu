// Self-verifying: events recorded around a kernel, cudaEventSynchronize, cudaEventQuery, elapsed time
// (non-negative, ordered), and a cross-stream dependency by cudaStreamWaitEvent.
#include <cstdio>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

__global__ void fill(int *x, int value, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = value;
}

__global__ void add_from(int *dst, const int *src, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dst[i] += src[i];
}

int main()
{
    const int n = 8192;
    int *a, *b;
    CHECK(cudaMalloc(&a, n * sizeof(int)));
    CHECK(cudaMalloc(&b, n * sizeof(int)));
    cudaStream_t s1, s2;
    CHECK(cudaStreamCreateWithFlags(&s1, cudaStreamNonBlocking));
    CHECK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));
    cudaEvent_t start, middle, stop, ready;
    CHECK(cudaEventCreate(&start));
    CHECK(cudaEventCreate(&middle));
    CHECK(cudaEventCreate(&stop));
    CHECK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));

    CHECK(cudaEventRecord(start, s1));
    fill<<<n / 256, 256, 0, s1>>>(a, 5, n);
    CHECK(cudaEventRecord(middle, s1));
    fill<<<n / 256, 256, 0, s1>>>(a, 7, n);
    CHECK(cudaEventRecord(ready, s1));
    fill<<<n / 256, 256, 0, s2>>>(b, 1, n);
    CHECK(cudaStreamWaitEvent(s2, ready, 0));
    add_from<<<n / 256, 256, 0, s2>>>(b, a, n);
    CHECK(cudaEventRecord(stop, s2));
    CHECK(cudaEventSynchronize(stop));
    CHECK(cudaEventQuery(stop));

    float first = -1, total = -1;
    CHECK(cudaEventElapsedTime(&first, start, middle));
    CHECK(cudaEventElapsedTime(&total, start, stop));
    if (!(first >= 0 && total >= first)) { printf("FAILED: elapsed %f ms then %f ms\n", first, total); return 1; }
    static int host[n];
    CHECK(cudaMemcpy(host, b, sizeof(host), cudaMemcpyDeviceToHost));
    for (int i = 0; i < n; i++)
    {
        if (host[i] != 8) { printf("FAILED: b[%d] = %d, expected 8 (stream wait ignored?)\n", i, host[i]); return 1; }
    }
    CHECK(cudaEventDestroy(start)); CHECK(cudaEventDestroy(middle));
    CHECK(cudaEventDestroy(stop)); CHECK(cudaEventDestroy(ready));
    CHECK(cudaStreamDestroy(s1)); CHECK(cudaStreamDestroy(s2));
    CHECK(cudaFree(a)); CHECK(cudaFree(b));
    printf("events: elapsed %.3f ms of %.3f ms, stream wait honoured PASSED\n", first, total);
    return 0;
}
