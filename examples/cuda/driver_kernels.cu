// Kernels for driver_api.c, loaded at run time: built to PTX text (nvcc -ptx) and to a fatbin
// (nvcc -fatbin). extern "C" keeps the names cuModuleGetFunction looks up unmangled.
extern "C" __global__ void saxpy(float a, const float *x, float *y, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}

extern "C" __global__ void fill(int *x, int value, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = value + i;
}

__device__ int counter;

extern "C" __global__ void count(int times)
{
    if (threadIdx.x < times) atomicAdd(&counter, 1);
}
