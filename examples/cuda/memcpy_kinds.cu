// Self-verifying: cudaMemcpy of every kind (H2D, D2H, D2D, H2H and cudaMemcpyDefault in all four
// directions), including copies at offsets inside an allocation. Prints PASSED or FAILED.
#include <cstdio>
#include <cstring>
#include <cuda_runtime.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)
#define EXPECT(cond, what) do { if (!(cond)) { printf("FAILED: %s\n", what); return 1; } } while (0)

int main()
{
    const int n = 65536;
    static int a[n], b[n], c[n];
    for (int i = 0; i < n; i++) a[i] = i * 31 + 7;
    int *d1, *d2;
    CHECK(cudaMalloc(&d1, sizeof(a)));
    CHECK(cudaMalloc(&d2, sizeof(a)));

    CHECK(cudaMemcpy(d1, a, sizeof(a), cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(d2, d1, sizeof(a), cudaMemcpyDeviceToDevice));
    CHECK(cudaMemcpy(b, d2, sizeof(a), cudaMemcpyDeviceToHost));
    EXPECT(memcmp(a, b, sizeof(a)) == 0, "H2D -> D2D -> D2H round trip");

    CHECK(cudaMemcpy(c, b, sizeof(a), cudaMemcpyHostToHost));
    EXPECT(memcmp(a, c, sizeof(a)) == 0, "H2H copy");

    // cudaMemcpyDefault: the direction comes from the addresses themselves (unified addressing).
    for (int i = 0; i < n; i++) a[i] = n - i;
    CHECK(cudaMemcpy(d1, a, sizeof(a), cudaMemcpyDefault));
    CHECK(cudaMemcpy(d2 + 100, d1 + 100, sizeof(int) * 1000, cudaMemcpyDefault));
    memset(b, 0, sizeof(b));
    CHECK(cudaMemcpy(b, d2, sizeof(a), cudaMemcpyDefault));
    for (int i = 100; i < 1100; i++) EXPECT(b[i] == n - i, "Default D2D at an offset");
    CHECK(cudaMemcpy(b, d1, sizeof(a), cudaMemcpyDefault));
    EXPECT(memcmp(a, b, sizeof(a)) == 0, "Default H2D then D2H");
    CHECK(cudaMemcpy(c, a, sizeof(a), cudaMemcpyDefault));
    EXPECT(memcmp(a, c, sizeof(a)) == 0, "Default H2H");

    // A part in the middle of an allocation, both ways.
    CHECK(cudaMemcpy(d1 + 5000, a, sizeof(int) * 10, cudaMemcpyHostToDevice));
    CHECK(cudaMemcpy(b, d1 + 5000, sizeof(int) * 10, cudaMemcpyDeviceToHost));
    EXPECT(memcmp(a, b, sizeof(int) * 10) == 0, "copies at an offset");

    CHECK(cudaFree(d1));
    CHECK(cudaFree(d2));
    printf("memcpy_kinds: H2D D2H D2D H2H Default PASSED\n");
    return 0;
}
