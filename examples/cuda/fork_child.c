/*
 * A forked child must not use the parent's CUDA state: CUDA forbids it, and our driver answers
 * CUDA_ERROR_NOT_INITIALIZED there without entering the JVM, while the parent goes on working.
 * With the argument "init", the program only reports what cuInit returns (used to check the error a
 * program gets when the JVM behind the driver cannot start).
 * Built with gcc against libcuda.so: gcc -I$CUDA_HOME/include fork_child.c -lcuda
 */
#include <cuda.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const CUresult init = cuInit(0);
    if (argc > 1 && strcmp(argv[1], "init") == 0)
    {
        printf("fork_child: cuInit returned %d\n", (int)init);
        return 0;
    }
    CUdevice device;
    CUcontext context;
    CUdeviceptr memory;
    if (init != CUDA_SUCCESS || cuDeviceGet(&device, 0) != CUDA_SUCCESS ||
        cuDevicePrimaryCtxRetain(&context, device) != CUDA_SUCCESS || cuCtxSetCurrent(context) != CUDA_SUCCESS ||
        cuMemAlloc(&memory, 4096) != CUDA_SUCCESS)
    {
        printf("fork_child: the parent could not set up: FAILED\n");
        return 1;
    }

    fflush(stdout);
    const pid_t child = fork();
    if (child == 0)
    {
        CUdeviceptr other;
        const CUresult result = cuMemAlloc(&other, 4096);
        printf("fork_child: the child's cuMemAlloc returned %d\n", (int)result);
        fflush(stdout);
        _exit(result == CUDA_ERROR_NOT_INITIALIZED ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    const int childOk = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    const int parentOk = cuMemsetD32(memory, 7, 1024) == CUDA_SUCCESS && cuCtxSynchronize() == CUDA_SUCCESS &&
        cuMemFree(memory) == CUDA_SUCCESS;
    printf("fork_child: child refused %s, parent still works %s: %s\n", childOk ? "yes" : "no",
        parentOk ? "yes" : "no", childOk && parentOk ? "PASSED" : "FAILED");
    return childOk && parentOk ? 0 : 1;
}
