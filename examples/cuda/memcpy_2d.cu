// Self-verifying: cudaMallocPitch and cudaMemcpy2D host-to-device, device-to-device (into a sub-block)
// and device-to-host, plus cudaMemcpy2DAsync; a kernel reads the pitched rows.
#include <cstdio>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

__global__ void add_row_index(int *m, size_t pitch, int width, int height)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y;
    if (x < width && y < height) ((int *)((char *)m + y * pitch))[x] += 1000 * y;
}

int main()
{
    const int width = 100, height = 37;
    static int host[height][width], back[height][width];
    for (int y = 0; y < height; y++) for (int x = 0; x < width; x++) host[y][x] = y * width + x;
    int *m, *sub;
    size_t pitch, sub_pitch;
    CHECK(cudaMallocPitch((void **)&m, &pitch, width * sizeof(int), height));
    CHECK(cudaMallocPitch((void **)&sub, &sub_pitch, width * sizeof(int), height));
    if (pitch < width * sizeof(int)) { printf("FAILED: pitch %zu\n", pitch); return 1; }
    CHECK(cudaMemcpy2D(m, pitch, host, width * sizeof(int), width * sizeof(int), height, cudaMemcpyHostToDevice));
    add_row_index<<<dim3((width + 63) / 64, height), 64>>>(m, pitch, width, height);
    CHECK(cudaGetLastError());
    CHECK(cudaMemcpy2D(back, width * sizeof(int), m, pitch, width * sizeof(int), height, cudaMemcpyDeviceToHost));
    for (int y = 0; y < height; y++) for (int x = 0; x < width; x++)
    {
        if (back[y][x] != y * width + x + 1000 * y) { printf("FAILED: [%d][%d] = %d after H2D/kernel/D2H\n", y, x, back[y][x]); return 1; }
    }
    // The 10x5 block at column 20, row 3 of m goes to the top left of sub, then back to the host.
    CHECK(cudaMemset2D(sub, sub_pitch, 0, width * sizeof(int), height));
    CHECK(cudaMemcpy2D(sub, sub_pitch, (char *)m + 3 * pitch + 20 * sizeof(int), pitch, 10 * sizeof(int), 5,
        cudaMemcpyDeviceToDevice));
    cudaStream_t stream;
    CHECK(cudaStreamCreate(&stream));
    CHECK(cudaMemcpy2DAsync(back, width * sizeof(int), sub, sub_pitch, width * sizeof(int), height,
        cudaMemcpyDeviceToHost, stream));
    CHECK(cudaStreamSynchronize(stream));
    for (int y = 0; y < height; y++) for (int x = 0; x < width; x++)
    {
        const int expected = y < 5 && x < 10 ? (y + 3) * width + x + 20 + 1000 * (y + 3) : 0;
        if (back[y][x] != expected) { printf("FAILED: sub[%d][%d] = %d, expected %d\n", y, x, back[y][x], expected); return 1; }
    }
    CHECK(cudaStreamDestroy(stream));
    CHECK(cudaFree(m));
    CHECK(cudaFree(sub));
    printf("memcpy_2d: %dx%d pitch %zu PASSED\n", width, height, pitch);
    return 0;
}
