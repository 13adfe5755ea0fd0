// Pitched 3D memory: cudaMalloc3D, cudaMemcpy3D host to device and device to device, a kernel walking the
// volume by its pitch, and cudaMemcpy3DAsync back into host memory laid out with another pitch. Checks every
// element; prints PASSED and exits 0 only when all are right.
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CHECK(call)                                                                      \
    do                                                                                   \
    {                                                                                    \
        cudaError_t status_ = (call);                                                    \
        if (status_ != cudaSuccess)                                                      \
        {                                                                                \
            std::printf("%s: %s\n", #call, cudaGetErrorString(status_));                 \
            return 1;                                                                    \
        }                                                                                \
    } while (0)

__global__ void scale(cudaPitchedPtr volume, int width, int height, int depth, float factor)
{
    const int x = blockIdx.x * blockDim.x + threadIdx.x;
    const int y = blockIdx.y;
    const int z = blockIdx.z;
    if (x < width && y < height && z < depth)
    {
        char *slice = (char *)volume.ptr + (size_t)z * volume.pitch * height;
        float *row = (float *)(slice + (size_t)y * volume.pitch);
        row[x] *= factor;
    }
}

int main()
{
    const int width = 37, height = 23, depth = 11;
    const cudaExtent extent = make_cudaExtent(width * sizeof(float), height, depth);

    std::vector<float> host((size_t)width * height * depth);
    for (size_t i = 0; i < host.size(); i++)
    {
        host[i] = (float)(i % 1000) + 0.5f;
    }
    cudaPitchedPtr first, second;
    CHECK(cudaMalloc3D(&first, extent));
    CHECK(cudaMalloc3D(&second, extent));
    if (first.pitch < width * sizeof(float))
    {
        std::printf("memcpy_3d: pitch %zu narrower than a row FAILED\n", first.pitch);
        return 1;
    }

    cudaMemcpy3DParms in = {};
    in.srcPtr = make_cudaPitchedPtr(host.data(), width * sizeof(float), width, height);
    in.dstPtr = first;
    in.extent = extent;
    in.kind = cudaMemcpyHostToDevice;
    CHECK(cudaMemcpy3D(&in));

    scale<<<dim3((width + 31) / 32, height, depth), 32>>>(first, width, height, depth, 2.0f);
    CHECK(cudaGetLastError());

    cudaMemcpy3DParms across = {};
    across.srcPtr = first;
    across.dstPtr = second;
    across.extent = extent;
    across.kind = cudaMemcpyDeviceToDevice;
    CHECK(cudaMemcpy3D(&across));

    // Back into host memory with rows of its own, wider pitch, on a stream.
    const int hostPitchFloats = width + 3;
    std::vector<float> back((size_t)hostPitchFloats * height * depth, -1.0f);
    cudaStream_t stream;
    CHECK(cudaStreamCreate(&stream));
    cudaMemcpy3DParms out = {};
    out.srcPtr = second;
    out.dstPtr = make_cudaPitchedPtr(back.data(), hostPitchFloats * sizeof(float), width, height);
    out.extent = extent;
    out.kind = cudaMemcpyDeviceToHost;
    CHECK(cudaMemcpy3DAsync(&out, stream));
    CHECK(cudaStreamSynchronize(stream));

    size_t wrong = 0;
    for (int z = 0; z < depth; z++)
    {
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < hostPitchFloats; x++)
            {
                const float got = back[((size_t)z * height + y) * hostPitchFloats + x];
                const float expected = x < width ? 2.0f * host[((size_t)z * height + y) * width + x] : -1.0f;
                if (got != expected)
                {
                    wrong++;
                }
            }
        }
    }
    CHECK(cudaStreamDestroy(stream));
    CHECK(cudaFree(first.ptr));
    CHECK(cudaFree(second.ptr));
    if (wrong != 0)
    {
        std::printf("memcpy_3d: %zu elements wrong FAILED\n", wrong);
        return 1;
    }
    std::printf("memcpy_3d: %dx%dx%d pitched, H2D D2D D2H PASSED\n", width, height, depth);
    return 0;
}
