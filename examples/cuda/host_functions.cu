// Self-verifying: host functions queued on streams (cudaLaunchHostFunc, cudaStreamAddCallback) run once,
// after the work queued before them, and before the work queued after them. Prints PASSED only then.
#include <cstdio>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

__global__ void fill(int *x, int value) { x[threadIdx.x] = value; }

static int calls, stream_status = -1;
static int seen_before_second_kernel = -1;
static int *host_copy;

static void CUDART_CB after_first_copy(void *data)
{
    calls++;
    seen_before_second_kernel = host_copy[0];   // the copy queued before has landed
    *(int *)data = 7;
}

static void CUDART_CB callback(cudaStream_t, cudaError_t status, void *) { calls++; stream_status = status; }

int main()
{
    int *device, marker = 0;
    cudaStream_t stream;
    CHECK(cudaStreamCreate(&stream));
    CHECK(cudaMalloc(&device, 32 * sizeof(int)));
    CHECK(cudaMallocHost(&host_copy, 32 * sizeof(int)));
    fill<<<1, 32, 0, stream>>>(device, 41);
    CHECK(cudaMemcpyAsync(host_copy, device, 32 * sizeof(int), cudaMemcpyDeviceToHost, stream));
    CHECK(cudaLaunchHostFunc(stream, after_first_copy, &marker));
    fill<<<1, 32, 0, stream>>>(device, 42);
    CHECK(cudaStreamAddCallback(stream, callback, NULL, 0));
    CHECK(cudaStreamSynchronize(stream));
    int last = 0;
    CHECK(cudaMemcpy(&last, device, sizeof(int), cudaMemcpyDeviceToHost));
    if (calls != 2 || marker != 7) { printf("FAILED: %d calls, marker %d\n", calls, marker); return 1; }
    if (seen_before_second_kernel != 41) { printf("FAILED: the host function saw %d\n", seen_before_second_kernel); return 1; }
    if (stream_status != cudaSuccess || last != 42) { printf("FAILED: status %d, last %d\n", stream_status, last); return 1; }
    CHECK(cudaFreeHost(host_copy));
    CHECK(cudaFree(device));
    CHECK(cudaStreamDestroy(stream));
    printf("host_functions: host function and stream callback in stream order PASSED\n");
    return 0;
}
