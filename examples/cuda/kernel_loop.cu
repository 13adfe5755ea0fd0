// Loops kernel launches and synchronizing copies until an error: used to kill the server or the client
// mid-run. Prints its pid and "looping" once the first round trip succeeded; on a CUDA error prints it
// and exits 1. Usage: kernel_loop [SECONDS] (default 60; exits 0 with PASSED when the time is up).
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <unistd.h>
#include <cuda_runtime.h>

__global__ void increment(int *x) { x[threadIdx.x] += 1; }

int main(int argc, char **argv)
{
    const int seconds = argc > 1 ? atoi(argv[1]) : 60;
    int *x, host[32] = {0};
    cudaError_t e = cudaMalloc(&x, sizeof(host));
    if (e == cudaSuccess) e = cudaMemset(x, 0, sizeof(host));
    const time_t end = time(NULL) + seconds;
    for (long round = 1; e == cudaSuccess; round++)
    {
        increment<<<1, 32>>>(x);
        e = cudaMemcpy(host, x, sizeof(host), cudaMemcpyDeviceToHost);
        if (e == cudaSuccess && host[31] != round) { printf("FAILED: round %ld read %d\n", round, host[31]); return 1; }
        if (round == 1) { printf("kernel_loop: pid %d looping\n", (int)getpid()); fflush(stdout); }
        if (time(NULL) >= end) { printf("kernel_loop: %ld rounds PASSED\n", round); return 0; }
        usleep(10000);
    }
    printf("kernel_loop: CUDA error %s: %s\n", cudaGetErrorName(e), cudaGetErrorString(e));
    return 1;
}
