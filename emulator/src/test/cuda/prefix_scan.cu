// Inclusive prefix sum in three kernels: scan each block in shared memory (Hillis-Steele, double
// buffered), scan the block totals in one block, then add each block's offset.
#define BLOCK 256

extern "C" __global__ void scanBlocks(const int *in, int *out, int *blockSums, int n)
{
    __shared__ int buffer[2][BLOCK];

    int i = blockIdx.x * BLOCK + threadIdx.x;
    int from = 0;
    buffer[from][threadIdx.x] = i < n ? in[i] : 0;
    __syncthreads();

    for (int offset = 1; offset < BLOCK; offset <<= 1)
    {
        int to = 1 - from;
        int value = buffer[from][threadIdx.x];
        if (threadIdx.x >= offset)
        {
            value += buffer[from][threadIdx.x - offset];
        }
        buffer[to][threadIdx.x] = value;
        from = to;
        __syncthreads();
    }

    if (i < n)
    {
        out[i] = buffer[from][threadIdx.x];
    }
    if (threadIdx.x == BLOCK - 1)
    {
        blockSums[blockIdx.x] = buffer[from][threadIdx.x];
    }
}

extern "C" __global__ void scanBlockSums(int *blockSums, int count)
{
    __shared__ int buffer[2][BLOCK];

    int from = 0;
    buffer[from][threadIdx.x] = threadIdx.x < count ? blockSums[threadIdx.x] : 0;
    __syncthreads();

    for (int offset = 1; offset < BLOCK; offset <<= 1)
    {
        int to = 1 - from;
        int value = buffer[from][threadIdx.x];
        if (threadIdx.x >= offset)
        {
            value += buffer[from][threadIdx.x - offset];
        }
        buffer[to][threadIdx.x] = value;
        from = to;
        __syncthreads();
    }

    if (threadIdx.x < count)
    {
        blockSums[threadIdx.x] = buffer[from][threadIdx.x];
    }
}

extern "C" __global__ void addBlockOffsets(int *out, const int *blockSums, int n)
{
    int i = blockIdx.x * BLOCK + threadIdx.x;
    if (blockIdx.x > 0 && i < n)
    {
        out[i] += blockSums[blockIdx.x - 1];
    }
}
