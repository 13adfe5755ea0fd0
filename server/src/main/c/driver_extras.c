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

#define CUDA_ERROR_INVALID_VALUE 1
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

typedef int (*encode_tiled)(void *, int, unsigned int, void *, const unsigned long long *, const unsigned long long *,
    const unsigned int *, const unsigned int *, int, int, int, int);
typedef int (*encode_im2col)(void *, int, unsigned int, void *, const unsigned long long *, const unsigned long long *,
    const int *, const int *, unsigned int, unsigned int, const unsigned int *, int, int, int, int);
typedef int (*replace_address)(void *, void *);

/* The tensor map calls take at most five dimensions; Java passes each array at the length the protocol gives it. */
#define MAX_RANK 5

/* Copies a Java long[] of at most MAX_RANK elements; false (an exception pending) when it does not fit. */
static int copy_longs(JNIEnv *env, jlongArray array, jlong *out)
{
    const jsize length = (*env)->GetArrayLength(env, array);
    if (length > MAX_RANK)
    {
        return 0;
    }
    (*env)->GetLongArrayRegion(env, array, 0, length, out);
    return !(*env)->ExceptionCheck(env);
}

static int copy_ints(JNIEnv *env, jintArray array, jint *out)
{
    const jsize length = (*env)->GetArrayLength(env, array);
    if (length > MAX_RANK)
    {
        return 0;
    }
    (*env)->GetIntArrayRegion(env, array, 0, length, out);
    return !(*env)->ExceptionCheck(env);
}

/* cuTensorMapEncodeTiled with the arguments the client sent, decoded by the session from its message. */
JNIEXPORT jint JNICALL Java_dev_bitfusion_server_backend_cuda_DriverExtras_encodeTiledNative(JNIEnv *env, jclass type,
    jlong tensor_map, jint data_type, jint rank, jlong global_address, jlongArray global_dim_array,
    jlongArray global_strides_array, jintArray box_dim_array, jintArray element_strides_array, jint interleave,
    jint swizzle, jint l2_promotion, jint oob_fill)
{
    (void)type;
    static encode_tiled encode;
    if (encode == NULL && (encode = (encode_tiled)find("cuTensorMapEncodeTiled")) == NULL)
    {
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    jlong global_dim[MAX_RANK] = { 0 }, global_strides[MAX_RANK] = { 0 };
    jint box_dim[MAX_RANK] = { 0 }, element_strides[MAX_RANK] = { 0 };
    if (!copy_longs(env, global_dim_array, global_dim) || !copy_longs(env, global_strides_array, global_strides) ||
        !copy_ints(env, box_dim_array, box_dim) || !copy_ints(env, element_strides_array, element_strides))
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    return encode((void *)(size_t)tensor_map, data_type, (unsigned int)rank, (void *)(size_t)global_address,
        (const unsigned long long *)global_dim, (const unsigned long long *)global_strides,
        (const unsigned int *)box_dim, (const unsigned int *)element_strides, interleave, swizzle, l2_promotion,
        oob_fill);
}

/* cuTensorMapEncodeIm2col, likewise. */
JNIEXPORT jint JNICALL Java_dev_bitfusion_server_backend_cuda_DriverExtras_encodeIm2colNative(JNIEnv *env, jclass type,
    jlong tensor_map, jint data_type, jint rank, jlong global_address, jlongArray global_dim_array,
    jlongArray global_strides_array, jintArray lower_corner_array, jintArray upper_corner_array,
    jint channels_per_pixel, jint pixels_per_column, jintArray element_strides_array, jint interleave, jint swizzle,
    jint l2_promotion, jint oob_fill)
{
    (void)type;
    static encode_im2col encode;
    if (encode == NULL && (encode = (encode_im2col)find("cuTensorMapEncodeIm2col")) == NULL)
    {
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    jlong global_dim[MAX_RANK] = { 0 }, global_strides[MAX_RANK] = { 0 };
    jint lower_corner[MAX_RANK] = { 0 }, upper_corner[MAX_RANK] = { 0 }, element_strides[MAX_RANK] = { 0 };
    if (!copy_longs(env, global_dim_array, global_dim) || !copy_longs(env, global_strides_array, global_strides) ||
        !copy_ints(env, lower_corner_array, lower_corner) || !copy_ints(env, upper_corner_array, upper_corner) ||
        !copy_ints(env, element_strides_array, element_strides))
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    return encode((void *)(size_t)tensor_map, data_type, (unsigned int)rank, (void *)(size_t)global_address,
        (const unsigned long long *)global_dim, (const unsigned long long *)global_strides, lower_corner, upper_corner,
        (unsigned int)channels_per_pixel, (unsigned int)pixels_per_column, (const unsigned int *)element_strides,
        interleave, swizzle, l2_promotion, oob_fill);
}

/* cuTensorMapReplaceAddress on a map already in place at tensor_map. */
JNIEXPORT jint JNICALL Java_dev_bitfusion_server_backend_cuda_DriverExtras_replaceAddressNative(JNIEnv *env,
    jclass type, jlong tensor_map, jlong global_address)
{
    (void)env; (void)type;
    static replace_address replace;
    if (replace == NULL && (replace = (replace_address)find("cuTensorMapReplaceAddress")) == NULL)
    {
        return CUDA_ERROR_NOT_SUPPORTED;
    }
    return replace((void *)(size_t)tensor_map, (void *)(size_t)global_address);
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
