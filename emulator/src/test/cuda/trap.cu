// Traps (PTX trap) when it meets a negative value, as a device-side assertion would: the launch fails.
extern "C" __global__ void trapOnNegative(const int *in, int *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
    {
        if (in[i] < 0)
        {
            __trap();
        }
        out[i] = in[i] * 2;
    }
}
