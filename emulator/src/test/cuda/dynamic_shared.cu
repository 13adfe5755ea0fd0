// Reverse each block's segment through dynamic shared memory sized at launch (extern __shared__),
// holding an int and a float view of the same buffer.
extern "C" __global__ void reverseSegments(const int *in, int *out, float *sums, int n)
{
    extern __shared__ int segment[];
    float *partials = (float *)&segment[blockDim.x];

    int i = blockIdx.x * blockDim.x + threadIdx.x;
    segment[threadIdx.x] = i < n ? in[i] : 0;
    partials[threadIdx.x] = (float)segment[threadIdx.x];
    __syncthreads();

    if (i < n)
    {
        out[i] = segment[blockDim.x - 1 - threadIdx.x];
    }
    for (int stride = blockDim.x / 2; stride > 0; stride >>= 1)
    {
        if (threadIdx.x < stride)
        {
            partials[threadIdx.x] += partials[threadIdx.x + stride];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0)
    {
        sums[blockIdx.x] = partials[0];
    }
}
