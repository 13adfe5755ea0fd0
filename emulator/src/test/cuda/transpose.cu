// out = transpose(in) for a rows x cols matrix: 32x32 tiles padded to 33 columns so that the
// column-wise reads from shared memory do not hit one bank; 32x8 threads per block, 4 rows each.
#define TILE 32
#define ROWS_PER_PASS 8

extern "C" __global__ void transposePadded(const float *in, float *out, int rows, int cols)
{
    __shared__ float tile[TILE][TILE + 1];

    int x = blockIdx.x * TILE + threadIdx.x;
    int y = blockIdx.y * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS_PER_PASS)
    {
        if (x < cols && y + j < rows)
        {
            tile[threadIdx.y + j][threadIdx.x] = in[(y + j) * cols + x];
        }
    }
    __syncthreads();

    x = blockIdx.y * TILE + threadIdx.x;
    y = blockIdx.x * TILE + threadIdx.y;
    for (int j = 0; j < TILE; j += ROWS_PER_PASS)
    {
        if (x < rows && y + j < cols)
        {
            out[(y + j) * rows + x] = tile[threadIdx.x][threadIdx.y + j];
        }
    }
}
