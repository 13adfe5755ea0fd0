// Writes through a pointer it is given plus an offset far past any allocation: an illegal address.
extern "C" __global__ void faultKernel(int *data, long long offset)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    data[i + offset] = i;
}
