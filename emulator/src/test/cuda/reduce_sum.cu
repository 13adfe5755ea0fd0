// Sum of n ints: grid-stride accumulation, warp reduction with shuffles, one shared slot per warp,
// then one atomicAdd per block.
extern "C" __global__ void reduceSum(const int *in, int *out, int n)
{
    __shared__ int warpSums[32];

    int sum = 0;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
    {
        sum += in[i];
    }

    for (int offset = 16; offset > 0; offset >>= 1)
    {
        sum += __shfl_down_sync(0xffffffffu, sum, offset);
    }

    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    if (lane == 0)
    {
        warpSums[warp] = sum;
    }
    __syncthreads();

    if (warp == 0)
    {
        int warps = (blockDim.x + 31) >> 5;
        sum = lane < warps ? warpSums[lane] : 0;
        for (int offset = 16; offset > 0; offset >>= 1)
        {
            sum += __shfl_xor_sync(0xffffffffu, sum, offset);
        }
        if (lane == 0)
        {
            atomicAdd(out, sum);
        }
    }
}
