// Self-verifying: several host threads at once, each with its own stream, buffers and kernel launches,
// each checking its own result. Prints PASSED only when every thread's check passes.
#include <cstdio>
#include <pthread.h>
#include <cuda_runtime.h>

#define THREADS 4
#define ROUNDS 20
#define N 4096

__global__ void axpy(float a, const float *x, float *y, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] += a * x[i];
}

static void *worker(void *arg)
{
    const int id = (int)(long)arg;
    static __thread float x[N], y[N];
    cudaStream_t stream;
    float *dx, *dy;
    if (cudaStreamCreate(&stream) != cudaSuccess || cudaMalloc(&dx, sizeof(x)) != cudaSuccess ||
        cudaMalloc(&dy, sizeof(y)) != cudaSuccess)
    {
        printf("FAILED: thread %d: setup: %s\n", id, cudaGetErrorString(cudaGetLastError()));
        return (void *)1;
    }
    for (int i = 0; i < N; i++) { x[i] = (float)(i % 100); y[i] = (float)id; }
    cudaMemcpyAsync(dx, x, sizeof(x), cudaMemcpyHostToDevice, stream);
    cudaMemcpyAsync(dy, y, sizeof(y), cudaMemcpyHostToDevice, stream);
    for (int r = 0; r < ROUNDS; r++) axpy<<<N / 256, 256, 0, stream>>>((float)(id + 1), dx, dy, N);
    cudaMemcpyAsync(y, dy, sizeof(y), cudaMemcpyDeviceToHost, stream);
    cudaError_t e = cudaStreamSynchronize(stream);
    if (e != cudaSuccess) { printf("FAILED: thread %d: %s\n", id, cudaGetErrorString(e)); return (void *)1; }
    for (int i = 0; i < N; i++)
    {
        const float expected = id + ROUNDS * (id + 1) * (float)(i % 100);
        if (y[i] != expected) { printf("FAILED: thread %d: y[%d] = %f, expected %f\n", id, i, y[i], expected); return (void *)1; }
    }
    cudaFree(dx);
    cudaFree(dy);
    cudaStreamDestroy(stream);
    printf("thread %d: ok\n", id);
    return NULL;
}

int main()
{
    cudaFree(0); // create the context before the threads race to it
    pthread_t threads[THREADS];
    for (long t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, worker, (void *)t);
    int failed = 0;
    for (int t = 0; t < THREADS; t++)
    {
        void *result;
        pthread_join(threads[t], &result);
        failed |= result != NULL;
    }
    if (failed) { printf("FAILED: a thread's check failed\n"); return 1; }
    printf("multi_thread_streams: %d threads x %d launches PASSED\n", THREADS, ROUNDS);
    return 0;
}
