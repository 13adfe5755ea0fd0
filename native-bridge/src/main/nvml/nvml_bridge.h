/*
 * The NVML stand-in (libnvidia-ml.so.1): what its generated exports (nvml_calls.c) and its hand-written
 * answers (nvml.c) share. It links our libcuda.so.1, whose JVM and DriverBridge it uses; NVML's codes are
 * plain ints here, as nvml.h is not part of the toolkit this builds with.
 */
#ifndef BITFUSION_NVML_BRIDGE_H
#define BITFUSION_NVML_BRIDGE_H

#include "bridge.h"

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_ERROR_DRIVER_NOT_LOADED 9
#define NVML_ERROR_UNKNOWN 999

/** The NVML code for a call the runtime could not take: the bridge did not start, or the process is exiting. */
int bf_nvml_unavailable(CUresult entered);

/** Body of every NVML function not answered: names it once, returns NVML_ERROR_NOT_SUPPORTED. */
int bf_nvml_unsupported(const char *name, int index);

/** Generated: how many NVML functions are not answered. */
extern const int bf_nvml_stub_count;

#endif
