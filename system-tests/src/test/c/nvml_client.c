/*
 * A monitoring client in C, linked against libnvidia-ml.so.1 as nvidia-smi-style tools are: it prints what NVML
 * says of GPU 0 and checks the memory is the slice it was given. The few declarations it needs are written
 * here, as the toolkit has no nvml.h.
 *   nvml_client SLICE_MIB
 */
#include <stdio.h>
#include <stdlib.h>

typedef struct { unsigned long long total, free, used; } nvml_memory;
typedef struct { unsigned int pid; unsigned long long used; unsigned int gpu_instance, compute_instance; } nvml_process;

int nvmlInit_v2(void);
int nvmlShutdown(void);
const char *nvmlErrorString(int result);
int nvmlSystemGetDriverVersion(char *version, unsigned int length);
int nvmlSystemGetCudaDriverVersion(int *version);
int nvmlDeviceGetCount_v2(unsigned int *count);
int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **device);
int nvmlDeviceGetName(void *device, char *name, unsigned int length);
int nvmlDeviceGetUUID(void *device, char *uuid, unsigned int length);
int nvmlDeviceGetHandleByUUID(const char *uuid, void **device);
int nvmlDeviceGetMemoryInfo(void *device, nvml_memory *memory);
int nvmlDeviceGetComputeRunningProcesses_v3(void *device, unsigned int *count, nvml_process *processes);
int nvmlDeviceGetTemperature(void *device, int sensor, unsigned int *temperature);

#define CHECK(call) do { int status_ = (call); if (status_ != 0) { \
    printf("nvml_client: FAILED: %s returned %d (%s)\n", #call, status_, nvmlErrorString(status_)); return 1; } } while (0)

int main(int argc, char **argv)
{
    const unsigned long long slice = argc > 1 ? strtoull(argv[1], NULL, 10) << 20 : 0;
    char driver[80], name[96], uuid[96];
    int cuda = 0;
    unsigned int count = 0, processes = 4, temperature = 0;
    void *device = NULL, *again = NULL;
    nvml_memory memory;
    nvml_process process[4];
    CHECK(nvmlInit_v2());
    CHECK(nvmlSystemGetDriverVersion(driver, sizeof(driver)));
    CHECK(nvmlSystemGetCudaDriverVersion(&cuda));
    CHECK(nvmlDeviceGetCount_v2(&count));
    CHECK(nvmlDeviceGetHandleByIndex_v2(0, &device));
    CHECK(nvmlDeviceGetName(device, name, sizeof(name)));
    CHECK(nvmlDeviceGetUUID(device, uuid, sizeof(uuid)));
    CHECK(nvmlDeviceGetHandleByUUID(uuid, &again));
    CHECK(nvmlDeviceGetMemoryInfo(device, &memory));
    CHECK(nvmlDeviceGetComputeRunningProcesses_v3(device, &processes, process));
    printf("nvml_client: driver %s, CUDA %d, %u GPU: %s %s, %llu MiB total, %llu MiB free, %u process\n",
        driver, cuda, count, name, uuid, memory.total >> 20, memory.free >> 20, processes);
    printf("nvml_client: temperature: %s\n", nvmlErrorString(nvmlDeviceGetTemperature(device, 0, &temperature)));
    if (count != 1 || again != device || memory.total != slice || memory.free + memory.used != memory.total ||
        processes != 1)
    {
        printf("nvml_client: FAILED\n");
        return 1;
    }
    CHECK(nvmlShutdown());
    printf("nvml_client: PASSED\n");
    return 0;
}
