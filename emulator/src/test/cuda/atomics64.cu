// 64-bit atomics: atomicAdd on unsigned long long, atomicMin/Max on long long, atomicExch, and CAS
// loops implementing a double max and a 64-bit multiply-accumulate that have no native atomic.
__device__ double atomicMaxDouble(double *address, double value)
{
    unsigned long long *bits = (unsigned long long *)address;
    unsigned long long old = *bits;
    unsigned long long assumed;
    do
    {
        assumed = old;
        if (__longlong_as_double(assumed) >= value)
        {
            break;
        }
        old = atomicCAS(bits, assumed, __double_as_longlong(value));
    }
    while (assumed != old);
    return __longlong_as_double(old);
}

__device__ unsigned long long atomicHashCombine(unsigned long long *address, unsigned long long value)
{
    unsigned long long old = *address;
    unsigned long long assumed;
    do
    {
        assumed = old;
        old = atomicCAS(address, assumed, assumed + value * 0x9e3779b97f4a7c15ull);
    }
    while (assumed != old);
    return old;
}

extern "C" __global__ void atomics64(
    const long long *values, int n, unsigned long long *sum, long long *minMax, double *maxDouble,
    unsigned long long *combined, unsigned long long *count)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
    {
        long long v = values[i];
        atomicAdd(sum, (unsigned long long)v);
        atomicMin(&minMax[0], v);
        atomicMax(&minMax[1], v);
        atomicMaxDouble(maxDouble, (double)v * 0.5);
        atomicHashCombine(combined, (unsigned long long)v);
        atomicAdd(count, 1ull);
    }
}
