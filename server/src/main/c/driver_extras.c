/*
 * Driver entry points the cuda backend calls through JNI rather than JCuda:
 * - every kernel launch, with plain addresses (see the launch function);
 * - cuLaunchKernelEx with a thread block cluster shape: kernels built for one (CUTLASS's Hopper GEMMs in
 *   cuBLAS and cuDNN) give wrong results launched without it;
 * - cuTensorMapEncodeTiled/Im2col and cuTensorMapReplaceAddress: Hopper's TMA descriptors, whose format is
 *   the driver's own.
 * They take the driver JCuda already loaded (RTLD_NOLOAD) rather than linking one, so they always talk to
 * the same driver and contexts as JCuda.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <jni.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "cuda_errors.h"

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
typedef int (*launch_kernel)(void *, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int,
    unsigned int, unsigned int, void *, void **, void **);

static void *find(const char *name)
{
    void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
    return driver == NULL ? NULL : dlsym(driver, name);
}

/*
 * Every launch of the cuda backend comes here: the arguments are plain addresses, where JCuda's own
 * cuLaunchKernel walks an array of Java pointer objects on each call. A cluster shape goes through
 * cuLaunchKernelEx; a launch without one through cuLaunchKernel.
 */
JNIEXPORT jint JNICALL Java_dev_bitfusion_server_backend_cuda_DriverExtras_launch(JNIEnv *env, jclass type,
    jlong function, jint grid_x, jint grid_y, jint grid_z, jint block_x, jint block_y, jint block_z,
    jint shared_bytes, jlong stream, jlong kernel_params, jint cluster_x, jint cluster_y, jint cluster_z)
{
    (void)env; (void)type;
    if (cluster_x == 0 && cluster_y == 0 && cluster_z == 0)
    {
        static launch_kernel launch;
        if (launch == NULL && (launch = (launch_kernel)find("cuLaunchKernel")) == NULL)
        {
            return CUDA_ERROR_NOT_SUPPORTED;
        }
        return launch((void *)(size_t)function, (unsigned int)grid_x, (unsigned int)grid_y, (unsigned int)grid_z,
            (unsigned int)block_x, (unsigned int)block_y, (unsigned int)block_z, (unsigned int)shared_bytes,
            (void *)(size_t)stream, (void **)(size_t)kernel_params, NULL);
    }
    static launch_kernel_ex launch_ex;
    if (launch_ex == NULL && (launch_ex = (launch_kernel_ex)find("cuLaunchKernelEx")) == NULL)
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
    return launch_ex(&config, (void *)(size_t)function, (void **)(size_t)kernel_params, NULL);
}

typedef int (*occupancy_query)(int *, void *, const launch_config *);

/* cuOccupancyMaxActiveClusters (query 0) or cuOccupancyMaxPotentialClusterSize (query 1). */
JNIEXPORT jint JNICALL Java_dev_bitfusion_server_backend_cuda_DriverExtras_clusterOccupancyNative(JNIEnv *env,
    jclass type, jintArray value, jint query, jlong function, jint grid_x, jint grid_y, jint grid_z, jint block_x,
    jint block_y, jint block_z, jint shared_bytes, jint cluster_x, jint cluster_y, jint cluster_z)
{
    (void)type;
    static occupancy_query queries[2];
    static const char *const names[2] = { "cuOccupancyMaxActiveClusters", "cuOccupancyMaxPotentialClusterSize" };
    if (query < 0 || query > 1)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (queries[query] == NULL && (queries[query] = (occupancy_query)find(names[query])) == NULL)
    {
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    launch_attribute cluster = { .id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION };
    cluster.value.cluster.x = (unsigned int)cluster_x;
    cluster.value.cluster.y = (unsigned int)cluster_y;
    cluster.value.cluster.z = (unsigned int)cluster_z;
    const int has_cluster = cluster_x != 0 || cluster_y != 0 || cluster_z != 0;
    const launch_config config = {
        (unsigned int)grid_x, (unsigned int)grid_y, (unsigned int)grid_z,
        (unsigned int)block_x, (unsigned int)block_y, (unsigned int)block_z,
        (unsigned int)shared_bytes, NULL, has_cluster ? &cluster : NULL, has_cluster ? 1 : 0 };
    int answer = 0;
    const int status = queries[query](&answer, (void *)(size_t)function, &config);
    (*env)->SetIntArrayRegion(env, value, 0, 1, &answer);
    return status;
}

/* TensorMapRequest (transport) as a C struct: the offsets there and here must agree. */
typedef struct
{
    int kind, data_type, rank, interleave, swizzle, l2_promotion, oob_fill, channels_per_pixel, pixels_per_column;
    int pad;
    unsigned long long global_address;
    unsigned long long global_dim[5];
    unsigned long long global_strides[4];
    unsigned int box_dim[5];
    unsigned int element_strides[5];
    int lower_corner[3];
    int upper_corner[3];
    unsigned char tensor_map[128];
} tensor_map_request;

_Static_assert(offsetof(tensor_map_request, global_address) == 40, "TensorMapRequest.GLOBAL_ADDRESS_OFFSET");
_Static_assert(offsetof(tensor_map_request, global_strides) == 88, "TensorMapRequest.GLOBAL_STRIDES_OFFSET");
_Static_assert(offsetof(tensor_map_request, element_strides) == 140, "TensorMapRequest.ELEMENT_STRIDES_OFFSET");
_Static_assert(offsetof(tensor_map_request, tensor_map) == 184, "TensorMapRequest.TENSOR_MAP_OFFSET");

enum { KIND_TILED = 0, KIND_IM2COL = 1, KIND_REPLACE_ADDRESS = 2 };

typedef int (*encode_tiled)(void *, int, unsigned int, void *, const unsigned long long *, const unsigned long long *,
    const unsigned int *, const unsigned int *, int, int, int, int);
typedef int (*encode_im2col)(void *, int, unsigned int, void *, const unsigned long long *, const unsigned long long *,
    const int *, const int *, unsigned int, unsigned int, const unsigned int *, int, int, int, int);
typedef int (*replace_address)(void *, void *);

JNIEXPORT jint JNICALL Java_dev_bitfusion_server_backend_cuda_DriverExtras_encodeTensorMapNative(JNIEnv *env, jclass type,
    jlong request_address, jlong tensor_map_address)
{
    (void)env; (void)type;
    const tensor_map_request *request = (const tensor_map_request *)(size_t)request_address;
    unsigned char *tensor_map = (unsigned char *)(size_t)tensor_map_address;
    void *global = (void *)(size_t)request->global_address;
    switch (request->kind)
    {
        case KIND_TILED:
        {
            static encode_tiled encode;
            if (encode == NULL && (encode = (encode_tiled)find("cuTensorMapEncodeTiled")) == NULL)
            {
                return CUDA_ERROR_NOT_SUPPORTED;
            }
            return encode(tensor_map, request->data_type, (unsigned int)request->rank, global, request->global_dim,
                request->global_strides, request->box_dim, request->element_strides, request->interleave,
                request->swizzle, request->l2_promotion, request->oob_fill);
        }
        case KIND_IM2COL:
        {
            static encode_im2col encode;
            if (encode == NULL && (encode = (encode_im2col)find("cuTensorMapEncodeIm2col")) == NULL)
            {
                return CUDA_ERROR_NOT_SUPPORTED;
            }
            return encode(tensor_map, request->data_type, (unsigned int)request->rank, global, request->global_dim,
                request->global_strides, request->lower_corner, request->upper_corner,
                (unsigned int)request->channels_per_pixel, (unsigned int)request->pixels_per_column,
                request->element_strides, request->interleave, request->swizzle, request->l2_promotion,
                request->oob_fill);
        }
        case KIND_REPLACE_ADDRESS:
        {
            static replace_address replace;
            if (replace == NULL && (replace = (replace_address)find("cuTensorMapReplaceAddress")) == NULL)
            {
                return CUDA_ERROR_NOT_SUPPORTED;
            }
            for (int i = 0; i < 128; i++)
            {
                tensor_map[i] = request->tensor_map[i];
            }
            return replace(tensor_map, global);
        }
        default:
            return CUDA_ERROR_INVALID_VALUE;
    }
}

/*
 * Device printf: the driver writes a context's printf output to the process's stdout when the host
 * synchronises with it. Standard output becomes a pipe the server reads, unbuffered so the driver's text
 * is in the pipe when its call returns; what was standard output stays open at the returned descriptor.
 * fds receives the pipe's read end and that descriptor.
 */
JNIEXPORT jint JNICALL Java_dev_bitfusion_server_backend_cuda_DriverExtras_redirectStdoutNative(JNIEnv *env, jclass type,
    jintArray fds)
{
    (void)type;
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
    {
        return -1;
    }
    fcntl(pipe_fds[1], F_SETPIPE_SZ, 1 << 20);
    fflush(stdout);
    const int saved = fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (saved < 0 || dup2(pipe_fds[1], 1) < 0)
    {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        if (saved >= 0)
        {
            close(saved);
        }
        return -1;
    }
    close(pipe_fds[1]);
    setvbuf(stdout, NULL, _IONBF, 0);
    const jint values[2] = { pipe_fds[0], saved };
    (*env)->SetIntArrayRegion(env, fds, 0, 2, values);
    return 0;
}

/* A FileDescriptor for a descriptor this library opened: JNI may set its private field where Java may not. */
JNIEXPORT jobject JNICALL Java_dev_bitfusion_server_backend_cuda_DriverExtras_descriptorNative(JNIEnv *env,
    jclass type, jint fd)
{
    (void)type;
    jclass descriptor_class = (*env)->FindClass(env, "java/io/FileDescriptor");
    if (descriptor_class == NULL)
    {
        return NULL;
    }
    jmethodID constructor = (*env)->GetMethodID(env, descriptor_class, "<init>", "()V");
    jfieldID fd_field = (*env)->GetFieldID(env, descriptor_class, "fd", "I");
    if (constructor == NULL || fd_field == NULL)
    {
        return NULL;
    }
    jobject descriptor = (*env)->NewObject(env, descriptor_class, constructor);
    if (descriptor != NULL)
    {
        (*env)->SetIntField(env, descriptor, fd_field, fd);
    }
    return descriptor;
}
