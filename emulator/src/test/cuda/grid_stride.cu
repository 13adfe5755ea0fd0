// Grid-stride loop: a small grid covers any n, with 64-bit indexing and integer mixing.
extern "C" __global__ void gridStride(const unsigned int *in, unsigned long long *out, long long n)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)blockDim.x * gridDim.x)
    {
        unsigned int v = in[i];
        out[i] = (unsigned long long)v * v + (unsigned long long)__popc(v) + ((unsigned long long)__clz(v) << 40) + __brev(v);
    }
}
