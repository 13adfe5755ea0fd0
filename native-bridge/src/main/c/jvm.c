/*
 * The JVM the client runtime (the agent's RemoteDriver) runs in. Three ways to one:
 * - loaded by the Java agent (System.load in premain): JNI_OnLoad receives the running JVM and the agent's
 *   class loader is the one that finds DriverBridge, so the bridge links there and then; the agent closes the
 *   sessions from a shutdown hook of its own, after the application's.
 * - loaded by an application that already runs a JVM, without the agent (JCuda's native library asks for
 *   libcuda.so.1): the libjvm already mapped into the process is found first and joined, never a second one
 *   (a second libjvm in one process crashes it); DriverBridge must then be on the application's class path.
 * - loaded by a native program: a JVM is created on the first forwarded call, from libjvm found at run time
 *   (BITFUSION_JAVA_HOME, JAVA_HOME, or the java on PATH), never linked at build time, so the library does
 *   not carry the build machine's JDK path; the sessions close at exit.
 * Every trampoline of DriverBridge is resolved when the bridge links, so a class path that does not match
 * this library fails the start with one line rather than a call later.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
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
static pthread_once_t detach_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t detach_key;
static JavaVM *vm;
/* Whether DriverBridge is resolved: by JNI_OnLoad under the agent, else by the first call. */
static volatile int linked;
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

static void make_detach_key(void)
{
    pthread_key_create(&detach_key, detach_thread);
}

/* Only for a JVM the bridge created: a JVM the application runs closes the sessions from a shutdown hook. */
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

/*
 * The Java half of the bridge, found through the class loader of the calling context (the agent's, inside
 * JNI_OnLoad), its trampolines resolved and its natives registered.
 */
static int link_bridge(JNIEnv *env, int quiet)
{
    jclass local = (*env)->FindClass(env, BRIDGE_CLASS);
    if (local == NULL)
    {
        (*env)->ExceptionClear(env);
        if (!quiet)
        {
            fail("the running JVM does not have the bridge's classes", "start it with -javaagent:bitfusion-agent.jar");
        }
        return 0;
    }
    bf_bridge_class = (jclass)(*env)->NewGlobalRef(env, local);
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
    linked = 1;
    return 1;
}

/* Whether a system property is "true" (the agent publishes its layered options that way). */
static int system_property_set(JNIEnv *env, const char *name)
{
    jclass system = (*env)->FindClass(env, "java/lang/System");
    jmethodID get = system == NULL ? NULL :
        (*env)->GetStaticMethodID(env, system, "getProperty", "(Ljava/lang/String;)Ljava/lang/String;");
    jstring key = get == NULL ? NULL : (*env)->NewStringUTF(env, name);
    jstring value = key == NULL ? NULL : (jstring)(*env)->CallStaticObjectMethod(env, system, get, key);
    int set = 0;
    if (value != NULL)
    {
        const char *text = (*env)->GetStringUTFChars(env, value, NULL);
        set = text != NULL && strcmp(text, "true") == 0;
        (*env)->ReleaseStringUTFChars(env, value, text);
    }
    (*env)->ExceptionClear(env);
    return set;
}

/*
 * Loaded by System.load (the Java agent): join this JVM and link through the loading class's loader. A
 * library loaded by a class that cannot see DriverBridge stays unlinked and links on its first call.
 */
JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *loaded_by, void *reserved)
{
    (void)reserved;
    JNIEnv *env;
    if ((*loaded_by)->GetEnv(loaded_by, (void **)&env, JNI_VERSION_10) != JNI_OK)
    {
        return JNI_VERSION_10;
    }
    vm = loaded_by;
    if (link_bridge(env, 1))
    {
        bf_set_trace(system_property_set(env, "bitfusion.trace"));
    }
    return JNI_VERSION_10;
}

static int find_mapped_libjvm(struct dl_phdr_info *info, size_t size, void *found)
{
    (void)size;
    const char *name = info->dlpi_name;
    const size_t length = name == NULL ? 0 : strlen(name);
    if (length >= 10 && strcmp(name + length - 10, "/libjvm.so") == 0)
    {
        snprintf((char *)found, PATH_MAX, "%s", name);
        return 1;
    }
    return 0;
}

/* The JVM already running in this process, whatever loaded it; NULL when there is none. */
static JavaVM *running_vm(void)
{
    char path[PATH_MAX] = "";
    if (!dl_iterate_phdr(find_mapped_libjvm, path))
    {
        return NULL;
    }
    void *library = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    created_vms_fn created_vms = library == NULL ? NULL : (created_vms_fn)dlsym(library, "JNI_GetCreatedJavaVMs");
    JavaVM *running = NULL;
    jsize count = 0;
    if (created_vms == NULL || created_vms(&running, 1, &count) != JNI_OK || count != 1)
    {
        return NULL;
    }
    return running;
}

/* A JVM of the bridge's own, inside a native program. */
static JNIEnv *create_embedded_vm(void)
{
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
    create_vm_fn create = (create_vm_fn)dlsym(library, "JNI_CreateJavaVM");
    if (create == NULL)
    {
        fail("libjvm lacks the invocation API", libjvm);
        return NULL;
    }
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
    JNIEnv *env = NULL;
    /*
     * bitfusion run hands JVM programs the Java agent through JAVA_TOOL_OPTIONS, which every JVM reads: this
     * JVM is the bridge's own and needs no agent (nor the line the JVM prints when it picks them up). It is
     * hidden while the JVM starts, at the program's first CUDA call, and put back.
     */
    char *tool_options = getenv("JAVA_TOOL_OPTIONS") == NULL ? NULL : strdup(getenv("JAVA_TOOL_OPTIONS"));
    if (tool_options != NULL)
    {
        unsetenv("JAVA_TOOL_OPTIONS");
    }
    const jint created = create(&vm, (void **)&env, &args);
    if (tool_options != NULL)
    {
        setenv("JAVA_TOOL_OPTIONS", tool_options, 1);
        free(tool_options);
    }
    if (created != JNI_OK)
    {
        fail("JNI_CreateJavaVM failed", libjvm);
        vm = NULL;
        return NULL;
    }
    return env;
}

/* Runs on its own thread: the primordial thread's stack is not one a JVM the bridge creates can guard. */
static void *start_runtime(void *embedded_out)
{
    int embedded = 0;
    if (vm == NULL)
    {
        vm = running_vm();
    }
    JNIEnv *env = NULL;
    if (vm != NULL)
    {
        if ((*vm)->AttachCurrentThreadAsDaemon(vm, (void **)&env, NULL) != JNI_OK)
        {
            fail("cannot attach to the running JVM", NULL);
            return NULL;
        }
    }
    else
    {
        env = create_embedded_vm();
        embedded = 1;
    }
    if (env == NULL || (!linked && !link_bridge(env, 0)))
    {
        return NULL;
    }
    jmethodID bootstrap = (*env)->GetStaticMethodID(env, bf_bridge_class, bf_bridge_start.name, bf_bridge_start.signature);
    const jint status = bootstrap == NULL ? CUDA_ERROR_NOT_INITIALIZED :
        (*env)->CallStaticIntMethod(env, bf_bridge_class, bootstrap, (jint)embedded);
    if ((*env)->ExceptionCheck(env))
    {
        (*env)->ExceptionDescribe(env);
        (*env)->ExceptionClear(env);
        fail("the runtime's start threw", NULL);
        return NULL;
    }
    (*vm)->DetachCurrentThread(vm);
    *(int *)embedded_out = embedded;
    start_status = status;
    return NULL;
}

static void start_vm(void)
{
    started = 1;
    pthread_once(&detach_key_once, make_detach_key);
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, JVM_THREAD_STACK_BYTES);
    pthread_t thread;
    int embedded = 0;
    if (pthread_create(&thread, &attributes, start_runtime, &embedded) != 0)
    {
        fail("cannot create the JVM start thread", NULL);
        return;
    }
    pthread_join(thread, NULL);
    pthread_attr_destroy(&attributes);
    if (start_status == CUDA_SUCCESS && embedded)
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
