/*
 * What the NVML stand-in answers without the runtime: error strings and versions. The driver version is the
 * NVIDIA driver branch of the CUDA version our libcuda.so.1 implements (13.0: R580), which tools compare
 * against what a CUDA build needs; everything else comes from the program's sessions (nvml_calls.c).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "nvml_bridge.h"

#define CUDA_DRIVER_VERSION 13000
#define DRIVER_VERSION "580.00"
#define NVML_VERSION "13.580.00"
#define MAX_STUBS 1024

static atomic_char logged[MAX_STUBS];

int bf_nvml_unavailable(CUresult entered)
{
    return entered == CUDA_ERROR_DEINITIALIZED ? NVML_ERROR_UNINITIALIZED : NVML_ERROR_DRIVER_NOT_LOADED;
}

int bf_nvml_unsupported(const char *name, int index)
{
    if (index < 0 || index >= MAX_STUBS || !atomic_exchange(&logged[index], 1))
    {
        fprintf(stderr, "bitfusion: %s is not supported (NVML_ERROR_NOT_SUPPORTED)\n", name);
    }
    return NVML_ERROR_NOT_SUPPORTED;
}

static int copy_string(char *out, unsigned int length, const char *text)
{
    if (out == NULL)
    {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (strlen(text) + 1 > length)
    {
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    memcpy(out, text, strlen(text) + 1);
    return NVML_SUCCESS;
}

BF_EXPORT int nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
    return copy_string(version, length, DRIVER_VERSION);
}

BF_EXPORT int nvmlSystemGetNVMLVersion(char *version, unsigned int length)
{
    return copy_string(version, length, NVML_VERSION);
}

BF_EXPORT int nvmlSystemGetCudaDriverVersion(int *cudaDriverVersion)
{
    if (cudaDriverVersion == NULL)
    {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    *cudaDriverVersion = CUDA_DRIVER_VERSION;
    return NVML_SUCCESS;
}

BF_EXPORT int nvmlSystemGetCudaDriverVersion_v2(int *cudaDriverVersion)
{
    return nvmlSystemGetCudaDriverVersion(cudaDriverVersion);
}

BF_EXPORT const char *nvmlErrorString(int result)
{
    switch (result)
    {
        case 0: return "Success";
        case 1: return "Uninitialized";
        case 2: return "Invalid Argument";
        case 3: return "Not Supported";
        case 4: return "Insufficient Permissions";
        case 5: return "Already Initialized";
        case 6: return "Not Found";
        case 7: return "Insufficient Size";
        case 8: return "Insufficient External Power";
        case 9: return "Driver Not Loaded";
        case 10: return "Timeout";
        case 15: return "GPU is lost";
        case 999: return "Unknown Error";
        default: return "Unknown Error";
    }
}
