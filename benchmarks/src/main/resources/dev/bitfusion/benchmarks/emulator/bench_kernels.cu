#define TILE 16
extern "C" __global__ void vector_add(const float* a, const float* b, float* c, int n)
{ int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) c[i] = a[i] + b[i]; }
extern "C" __global__ void matmul(const float* A, const float* B, float* C, int n)
{
  __shared__ float As[TILE][TILE]; __shared__ float Bs[TILE][TILE];
  int row = blockIdx.y * TILE + threadIdx.y, col = blockIdx.x * TILE + threadIdx.x; float acc = 0;
  for (int t = 0; t < (n + TILE - 1) / TILE; ++t) {
    As[threadIdx.y][threadIdx.x] = (row < n && t*TILE+threadIdx.x < n) ? A[row*n + t*TILE+threadIdx.x] : 0;
    Bs[threadIdx.y][threadIdx.x] = (col < n && t*TILE+threadIdx.y < n) ? B[(t*TILE+threadIdx.y)*n + col] : 0;
    __syncthreads();
    for (int k = 0; k < TILE; ++k) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
    __syncthreads();
  }
  if (row < n && col < n) C[row*n+col] = acc;
}
