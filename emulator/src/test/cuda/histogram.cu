// 256-bin byte histogram: per-block counts in shared memory, merged into the global bins with atomics.
#define BINS 256

extern "C" __global__ void histogram256(const unsigned char *data, int n, unsigned int *bins)
{
    __shared__ unsigned int local[BINS];

    for (int i = threadIdx.x; i < BINS; i += blockDim.x)
    {
        local[i] = 0;
    }
    __syncthreads();

    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
    {
        atomicAdd(&local[data[i]], 1u);
    }
    __syncthreads();

    for (int i = threadIdx.x; i < BINS; i += blockDim.x)
    {
        if (local[i] != 0)
        {
            atomicAdd(&bins[i], local[i]);
        }
    }
}
