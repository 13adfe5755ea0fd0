// One Jacobi step of a 5-point stencil on a width x height grid; border cells are copied unchanged.
extern "C" __global__ void stencil2d(const float *in, float *out, int width, int height)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= width || y >= height)
    {
        return;
    }

    int i = y * width + x;
    if (x == 0 || y == 0 || x == width - 1 || y == height - 1)
    {
        out[i] = in[i];
    }
    else
    {
        out[i] = 0.5f * in[i] + 0.125f * (in[i - 1] + in[i + 1] + in[i - width] + in[i + width]);
    }
}
