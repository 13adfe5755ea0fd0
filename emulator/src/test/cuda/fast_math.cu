// Single-precision math: the approximate intrinsics (sin.approx, cos.approx, ex2.approx, lg2.approx,
// rsqrt.approx, div.approx) next to the correctly rounded sqrt, division and rounding conversions.
extern "C" __global__ void fastMath(const float *x, float *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
    {
        float v = x[i];
        float *o = out + 10 * i;
        o[0] = __sinf(v);
        o[1] = __cosf(v);
        o[2] = __expf(v * 0.125f);
        o[3] = __logf(fabsf(v) + 1.0f);
        o[4] = rsqrtf(fabsf(v) + 0.5f);
        o[5] = __fdividef(v, 3.0f);
        o[6] = sqrtf(fabsf(v));
        o[7] = v / 7.0f;
        o[8] = floorf(v) + ceilf(v * 0.5f) * 1000.0f;
        o[9] = rintf(v * 4.0f) + truncf(v * 0.25f) * 1000.0f;
    }
}
