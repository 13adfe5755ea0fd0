// Filter taps read from __constant__ memory, written by the host through cuModuleGetGlobal; the gain
// has an initialiser in the module image.
#define TAPS 9

__constant__ float taps[TAPS];
__constant__ float gain = 2.0f;

extern "C" __global__ void convolve1d(const float *in, float *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
    {
        float sum = 0.0f;
        for (int k = 0; k < TAPS; k++)
        {
            int j = i + k - TAPS / 2;
            if (j >= 0 && j < n)
            {
                sum += taps[k] * in[j];
            }
        }
        out[i] = gain * sum;
    }
}
