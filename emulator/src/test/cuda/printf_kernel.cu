#include <cstdio>

// Device printf with integer, unsigned, 64-bit, float, double, char, string and hex conversions.
extern "C" __global__ void printfKernel(int base, float scale)
{
    int t = threadIdx.x;
    if (t < 2 && blockIdx.x < 2)
    {
        printf("block %d thread %d value %d scaled %.3f\n", blockIdx.x, t, base + t, scale * t);
    }
    if (t == 0 && blockIdx.x == 0)
    {
        printf("mixed %u %lld %x %c %s %e\n", 4000000000u, -1234567890123LL, 0xbeef, 'Z', "done", 1.5);
    }
}
