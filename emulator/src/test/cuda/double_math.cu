// Double-precision library math (libdevice): the interpreter must run its polynomial and table code.
extern "C" __global__ void doubleMath(const double *x, double *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
    {
        double v = x[i];
        out[4 * i] = sqrt(v);
        out[4 * i + 1] = exp(-v);
        out[4 * i + 2] = sin(v) * cos(v);
        out[4 * i + 3] = log(v) / v + fma(v, v, 1.0 / v);
    }
}
