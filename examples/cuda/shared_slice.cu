// Self-verifying: two processes of one job share one slice (bitfusion run -p F -- bash -c "shared_slice D 0 &
// shared_slice D 1 & wait"). Each allocates 40% of what cudaMemGetInfo calls the total, then waits, through files in
// the directory D, for the other to have done the same. With one shared slice 80% of it is then held: the free memory
// each sees is about 20%, and a further 40% must fail with cudaErrorMemoryAllocation, though this process alone holds
// only 40%. With a slice of its own per process, the further allocation would succeed: FAILED. Prints PASSED only
// when the slice is shared.
#include <cstdio>
#include <cstdlib>
#include <cuda_runtime.h>
#include <unistd.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    printf("FAILED: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

static void mark(const char *dir, const char *what, int role)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-%d", dir, what, role);
    FILE *file = fopen(path, "w");
    if (file) fclose(file);
}

static bool await(const char *dir, const char *what, int role)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s-%d", dir, what, role);
    for (int i = 0; i < 1200; i++)   // a minute
    {
        if (access(path, F_OK) == 0) return true;
        usleep(50 * 1000);
    }
    return false;
}

int main(int argc, char **argv)
{
    if (argc != 3) { printf("FAILED: usage: shared_slice DIRECTORY ROLE(0|1)\n"); return 1; }
    const char *dir = argv[1];
    const int role = atoi(argv[2]);
    const int other = 1 - role;
    size_t freeBytes = 0, totalBytes = 0;
    CHECK(cudaMemGetInfo(&freeBytes, &totalBytes));
    const size_t part = totalBytes / 10 * 4;
    void *mine = nullptr;
    CHECK(cudaMalloc(&mine, part));
    mark(dir, "allocated", role);
    if (!await(dir, "allocated", other)) { printf("FAILED: process %d never allocated\n", other); return 1; }

    CHECK(cudaMemGetInfo(&freeBytes, &totalBytes));
    void *more = nullptr;
    const cudaError_t further = cudaMalloc(&more, part);
    cudaGetLastError();
    mark(dir, "probed", role);
    if (!await(dir, "probed", other)) { printf("FAILED: process %d never probed\n", other); return 1; }
    CHECK(cudaFree(mine));
    if (further == cudaSuccess)
    {
        printf("FAILED: process %d got a further %zu bytes: the two processes do not share one slice\n", role, part);
        return 1;
    }
    if (further != cudaErrorMemoryAllocation)
    {
        printf("FAILED: the further allocation failed with %s\n", cudaGetErrorName(further));
        return 1;
    }
    if (freeBytes > totalBytes / 10 * 3)
    {
        printf("FAILED: %zu of %zu bytes free while both processes hold 40%%\n", freeBytes, totalBytes);
        return 1;
    }
    printf("shared_slice: process %d saw %zu of %zu bytes free, the rest held by the job PASSED\n", role, freeBytes,
        totalBytes);
    return 0;
}
