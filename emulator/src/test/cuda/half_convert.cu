#include <cuda_fp16.h>

// float -> half (round to nearest even), half arithmetic, and half -> float.
extern "C" __global__ void halfConvert(const float *in, __half *halves, float *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
    {
        __half h = __float2half_rn(in[i]);
        halves[i] = h;
        __half doubled = __hadd(h, h);
        out[2 * i] = __half2float(h);
        out[2 * i + 1] = __half2float(doubled);
    }
}
