/*
 * Thread block cluster launches for the cuda backend. JCuda 12.6 has no cuLaunchKernelEx, and kernels built
 * for a cluster shape (CUTLASS's Hopper GEMMs in cuBLAS and cuDNN) give wrong results launched without one,
 * so this JNI entry calls the driver's cuLaunchKernelEx directly. It takes the driver JCuda already loaded
 * (RTLD_NOLOAD) rather than linking one, so it always talks to the same driver and contexts as JCuda.
 */
#include <dlfcn.h>
#include <jni.h>
#include <stddef.h>

#define CUDA_ERROR_NOT_SUPPORTED 801
#define CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION 4

typedef struct
{
    unsigned int id;
    char pad[4];
    union
    {
        char bytes[64];
        struct { unsigned int x, y, z; } cluster;
    } value;
} launch_attribute;

typedef struct
{
    unsigned int grid_x, grid_y, grid_z;
    unsigned int block_x, block_y, block_z;
    unsigned int shared_bytes;
    void *stream;
    launch_attribute *attributes;
    unsigned int attribute_count;
} launch_config;

typedef int (*launch_kernel_ex)(const launch_config *, void *, void **, void **);

static launch_kernel_ex find_launch(void)
{
    static launch_kernel_ex found;
    if (found == NULL)
    {
        void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
        if (driver != NULL)
        {
            found = (launch_kernel_ex)dlsym(driver, "cuLaunchKernelEx");
        }
    }
    return found;
}

JNIEXPORT jint JNICALL Java_dev_bitfusion_server_backend_cuda_ClusterLaunch_launch(JNIEnv *env, jclass type,
    jlong function, jint grid_x, jint grid_y, jint grid_z, jint block_x, jint block_y, jint block_z,
    jint shared_bytes, jlong stream, jlong kernel_params, jint cluster_x, jint cluster_y, jint cluster_z)
{
    (void)env; (void)type;
    const launch_kernel_ex launch = find_launch();
    if (launch == NULL)
    {
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    launch_attribute cluster = { .id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION };
    cluster.value.cluster.x = (unsigned int)cluster_x;
    cluster.value.cluster.y = (unsigned int)cluster_y;
    cluster.value.cluster.z = (unsigned int)cluster_z;
    const launch_config config = {
        (unsigned int)grid_x, (unsigned int)grid_y, (unsigned int)grid_z,
        (unsigned int)block_x, (unsigned int)block_y, (unsigned int)block_z,
        (unsigned int)shared_bytes, (void *)(size_t)stream, &cluster, 1 };
    return launch(&config, (void *)(size_t)function, (void **)(size_t)kernel_params, NULL);
}
