// Kernels calling non-inlined device functions: call/ret with parameters, returns and recursion depth.
__device__ __noinline__ unsigned int mix(unsigned int x, unsigned int seed)
{
    x ^= seed;
    x *= 0x9e3779b1u;
    x ^= x >> 16;
    return x;
}

__device__ __noinline__ float polynomial(float x, const float *coefficients, int degree)
{
    float result = 0.0f;
    for (int k = degree; k >= 0; k--)
    {
        result = result * x + coefficients[k];
    }
    return result;
}

__device__ __noinline__ int collatzSteps(unsigned int x)
{
    int steps = 0;
    while (x != 1u)
    {
        x = (x & 1u) ? 3u * x + 1u : x >> 1;
        steps++;
    }
    return steps;
}

extern "C" __global__ void deviceFunctions(
    unsigned int *hashes, float *values, int *steps, const float *coefficients, int degree, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
    {
        hashes[i] = mix(mix((unsigned int)i, 12345u), 678u);
        values[i] = polynomial((float)i / n, coefficients, degree);
        steps[i] = collatzSteps((unsigned int)i + 1u);
    }
}
