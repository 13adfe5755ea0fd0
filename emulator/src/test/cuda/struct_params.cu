// Kernel parameters passed by value as structs: an aligned struct of mixed members and a small one.
struct Affine
{
    double scale;
    float offset;
    int stride;
    long long bias;
};

struct Range
{
    int begin;
    int end;
};

extern "C" __global__ void structParams(char tag, struct Affine transform, struct Range range, const int *in, double *out)
{
    int i = range.begin + blockIdx.x * blockDim.x + threadIdx.x;
    if (i < range.end)
    {
        out[i] = transform.scale * in[i * transform.stride] + transform.offset + (double)transform.bias + tag;
    }
}
