/*
 * JVM bootstrap: the client runtime (the agent's RemoteDriver) runs in a JVM created inside the
 * application process on the first driver call. libjvm is found at run time (BITFUSION_JAVA_HOME, JAVA_HOME,
 * or the java on PATH), never linked at build time, so the library does not carry the build machine's JDK
 * path. Every trampoline of DriverBridge is resolved when the JVM starts, so a class path that does not
 * match this library fails the start with one line rather than a call later.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jvm.h"

#define BRIDGE_CLASS "dev/bitfusion/bridge/DriverBridge"
#define MAX_OPTIONS 64
#define JVM_THREAD_STACK_BYTES (8u << 20)

typedef jint (*create_vm_fn)(JavaVM **, void **, void *);
typedef jint (*created_vms_fn)(JavaVM **, jsize, jsize *);

jclass bf_bridge_class;

static pthread_once_t start_once = PTHREAD_ONCE_INIT;
static pthread_key_t detach_key;
static JavaVM *vm;
static volatile int start_status = CUDA_ERROR_NOT_INITIALIZED;
static volatile int started;
static volatile int forked_child;
static volatile int exiting;
static __thread JNIEnv *thread_env;

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "bitfusion: cannot start the CUDA bridge: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
}

static int find_java_home(char *home, size_t size)
{
    const char *configured = getenv("BITFUSION_JAVA_HOME");
    if (configured == NULL || *configured == '\0')
    {
        configured = getenv("JAVA_HOME");
    }
    if (configured != NULL && *configured != '\0')
    {
        snprintf(home, size, "%s", configured);
        return 0;
    }
    const char *path = getenv("PATH");
    if (path == NULL)
    {
        return -1;
    }
    char *copy = strdup(path);
    int found = -1;
    for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save))
    {
        char candidate[PATH_MAX];
        char resolved[PATH_MAX];
        snprintf(candidate, sizeof(candidate), "%s/java", dir);
        if (access(candidate, X_OK) == 0 && realpath(candidate, resolved) != NULL)
        {
            char *slash = strrchr(resolved, '/');            /* .../bin/java -> .../bin */
            if (slash != NULL)
            {
                *slash = '\0';
                slash = strrchr(resolved, '/');              /* .../bin -> home */
                if (slash != NULL)
                {
                    *slash = '\0';
                    snprintf(home, size, "%s", resolved);
                    found = 0;
                    break;
                }
            }
        }
    }
    free(copy);
    return found;
}

static void detach_thread(void *value)
{
    (void)value;
    if (vm != NULL && !forked_child)
    {
        (*vm)->DetachCurrentThread(vm);
    }
}

static void on_exit_shutdown(void)
{
    JNIEnv *env;
    if (bf_enter(&env) != CUDA_SUCCESS)
    {
        return;
    }
    jmethodID shutdown = (*env)->GetStaticMethodID(env, bf_bridge_class, bf_bridge_exit.name, bf_bridge_exit.signature);
    if (shutdown != NULL)
    {
        (*env)->CallStaticVoidMethod(env, bf_bridge_class, shutdown);
    }
    (*env)->ExceptionClear(env);
    exiting = 1;
}

static int add_split_options(JavaVMOption *options, int count, char *text)
{
    for (char *save = NULL, *word = strtok_r(text, " ", &save); word != NULL && count < MAX_OPTIONS;
         word = strtok_r(NULL, " ", &save))
    {
        options[count++].optionString = word;
    }
    return count;
}

/* A program's host functions, called where the runtime decides they run (cuLaunchHostFunc, cuStreamAddCallback). */
void JNICALL bf_call_host_function(JNIEnv *env, jclass bridge, jlong function, jlong userData)
{
    (void)env; (void)bridge;
    ((void (*)(void *))(intptr_t)function)((void *)(intptr_t)userData);
}

void JNICALL bf_call_stream_callback(JNIEnv *env, jclass bridge, jlong callback, jlong stream, jint status, jlong userData)
{
    (void)env; (void)bridge;
    ((void (*)(void *, CUresult, void *))(intptr_t)callback)((void *)(intptr_t)stream, status, (void *)(intptr_t)userData);
}

static jclass global_class(JNIEnv *env, const char *name)
{
    jclass local = (*env)->FindClass(env, name);
    if (local == NULL)
    {
        (*env)->ExceptionClear(env);
        fail("class not found on BITFUSION_CLASSPATH", name);
        return NULL;
    }
    return (jclass)(*env)->NewGlobalRef(env, local);
}

/* The Java half of the bridge: every trampoline, and the natives it calls back through. */
static int link_bridge(JNIEnv *env)
{
    bf_bridge_class = global_class(env, BRIDGE_CLASS);
    if (bf_bridge_class == NULL)
    {
        return 0;
    }
    for (int i = 0; i < bf_java_method_count; i++)
    {
        bf_java_method_ids[i] = (*env)->GetStaticMethodID(env, bf_bridge_class, bf_java_methods[i].name,
            bf_java_methods[i].signature);
        if (bf_java_method_ids[i] == NULL)
        {
            (*env)->ExceptionClear(env);
            fprintf(stderr, "bitfusion: DriverBridge.%s%s is missing: the class path does not match this libcuda.so.1\n",
                bf_java_methods[i].name, bf_java_methods[i].signature);
            return 0;
        }
    }
    if ((*env)->RegisterNatives(env, bf_bridge_class, bf_bridge_natives, bf_bridge_native_count) != JNI_OK)
    {
        (*env)->ExceptionClear(env);
        fail("cannot register the bridge's natives", BRIDGE_CLASS);
        return 0;
    }
    return 1;
}

/* Runs on its own thread: the primordial thread's stack is not one the JVM can guard. */
static void *create_vm(void *unused)
{
    (void)unused;
    char home[PATH_MAX];
    if (find_java_home(home, sizeof(home)) != 0)
    {
        fail("no Java found", "set BITFUSION_JAVA_HOME or JAVA_HOME, or put java on PATH");
        return NULL;
    }
    char libjvm[PATH_MAX + 32];
    snprintf(libjvm, sizeof(libjvm), "%s/lib/server/libjvm.so", home);
    void *library = dlopen(libjvm, RTLD_NOW | RTLD_GLOBAL);
    if (library == NULL)
    {
        fail("cannot load libjvm", dlerror());
        return NULL;
    }
    created_vms_fn created_vms = (created_vms_fn)dlsym(library, "JNI_GetCreatedJavaVMs");
    create_vm_fn create = (create_vm_fn)dlsym(library, "JNI_CreateJavaVM");
    if (created_vms == NULL || create == NULL)
    {
        fail("libjvm lacks the invocation API", libjvm);
        return NULL;
    }

    JNIEnv *env = NULL;
    jsize existing = 0;
    if (created_vms(&vm, 1, &existing) == JNI_OK && existing == 1)
    {
        /* The application is itself a JVM (JCuda and friends): join it, the class path must hold the agent. */
        if ((*vm)->AttachCurrentThreadAsDaemon(vm, (void **)&env, NULL) != JNI_OK)
        {
            fail("cannot attach to the running JVM", NULL);
            return NULL;
        }
    }
    else
    {
        const char *class_path = getenv("BITFUSION_CLASSPATH");
        if (class_path == NULL || *class_path == '\0')
        {
            fail("BITFUSION_CLASSPATH is not set", "start the program with `bitfusion run -- PROGRAM`");
            return NULL;
        }
        static char class_path_option[1 << 16];
        snprintf(class_path_option, sizeof(class_path_option), "-Djava.class.path=%s", class_path);
        JavaVMOption options[MAX_OPTIONS];
        memset(options, 0, sizeof(options));
        int count = 0;
        options[count++].optionString = class_path_option;
        options[count++].optionString = "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED";
        options[count++].optionString = "--add-opens=java.base/java.nio=ALL-UNNAMED";
        options[count++].optionString = "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED";
        /* The application owns SIGINT/SIGTERM/SIGQUIT; the JVM must not turn them into its own shutdown. */
        options[count++].optionString = "-Xrs";
        options[count++].optionString = "-XX:+UseSerialGC";
        const char *extra = getenv("BITFUSION_JVM_OPTS");
        if (extra != NULL)
        {
            count = add_split_options(options, count, strdup(extra));
        }
        JavaVMInitArgs args;
        args.version = JNI_VERSION_10;
        args.nOptions = count;
        args.options = options;
        args.ignoreUnrecognized = JNI_FALSE;
        if (create(&vm, (void **)&env, &args) != JNI_OK)
        {
            fail("JNI_CreateJavaVM failed", libjvm);
            vm = NULL;
            return NULL;
        }
    }

    if (!link_bridge(env))
    {
        return NULL;
    }
    jmethodID bootstrap = (*env)->GetStaticMethodID(env, bf_bridge_class, bf_bridge_start.name, bf_bridge_start.signature);
    const jint status = bootstrap == NULL ? CUDA_ERROR_NOT_INITIALIZED :
        (*env)->CallStaticIntMethod(env, bf_bridge_class, bootstrap);
    if ((*env)->ExceptionCheck(env))
    {
        (*env)->ExceptionDescribe(env);
        (*env)->ExceptionClear(env);
        fail("the runtime's start threw", NULL);
        return NULL;
    }
    (*vm)->DetachCurrentThread(vm);
    if (status == CUDA_SUCCESS)
    {
        start_status = CUDA_SUCCESS;
    }
    return NULL;
}

static void start_vm(void)
{
    started = 1;
    pthread_key_create(&detach_key, detach_thread);
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, JVM_THREAD_STACK_BYTES);
    pthread_t thread;
    if (pthread_create(&thread, &attributes, create_vm, NULL) != 0)
    {
        fail("cannot create the JVM start thread", NULL);
        return;
    }
    pthread_join(thread, NULL);
    pthread_attr_destroy(&attributes);
    if (start_status == CUDA_SUCCESS)
    {
        atexit(on_exit_shutdown);
    }
}

static void in_forked_child(void)
{
    /* CUDA forbids using a context inherited across fork; the JVM's threads did not survive it either. */
    if (started)
    {
        forked_child = 1;
    }
}

__attribute__((constructor)) static void register_fork_guard(void)
{
    pthread_atfork(NULL, NULL, in_forked_child);
}

CUresult bf_enter(JNIEnv **env)
{
    if (forked_child)
    {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    if (thread_env != NULL)
    {
        if (exiting)
        {
            return CUDA_ERROR_DEINITIALIZED;
        }
        *env = thread_env;
        return CUDA_SUCCESS;
    }
    pthread_once(&start_once, start_vm);
    if (start_status != CUDA_SUCCESS)
    {
        return start_status;
    }
    if (exiting)
    {
        return CUDA_ERROR_DEINITIALIZED;
    }
    JNIEnv *attached = NULL;
    if ((*vm)->GetEnv(vm, (void **)&attached, JNI_VERSION_10) != JNI_OK)
    {
        if ((*vm)->AttachCurrentThreadAsDaemon(vm, (void **)&attached, NULL) != JNI_OK)
        {
            return CUDA_ERROR_UNKNOWN;
        }
        pthread_setspecific(detach_key, vm);
    }
    thread_env = attached;
    *env = attached;
    return CUDA_SUCCESS;
}

CUresult bf_check(JNIEnv *env, jint status)
{
    if ((*env)->ExceptionCheck(env))
    {
        (*env)->ExceptionDescribe(env);
        (*env)->ExceptionClear(env);
        return CUDA_ERROR_UNKNOWN;
    }
    return status;
}
