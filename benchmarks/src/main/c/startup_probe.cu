// The smallest CUDA program: one runtime call. Its start-up through `bitfusion run` is measured
// against its start-up on its own.
#include <cstdio>
#include <cuda_runtime.h>

int main()
{
    int count = 0;
    const cudaError_t result = cudaGetDeviceCount(&count);
    std::printf("cudaGetDeviceCount: %s, %d device(s)\n", cudaGetErrorName(result), count);
    return 0;
}
