/*
 * The JVM embedded in the application, started on the first driver call that needs it, and the calls into
 * the Java half of the bridge (dev.bitfusion.bridge.DriverBridge, generated with the C exports).
 */
#ifndef BITFUSION_JVM_H
#define BITFUSION_JVM_H

#include <jni.h>
#include "bridge.h"

/** A trampoline of DriverBridge: its name and JNI signature, as BridgeGenerator derived them. */
typedef struct
{
    const char *name;
    const char *signature;
} bf_java_method;

/* Generated (forwarded_calls.c): the trampolines in table order, and their method ids once the JVM runs. */
extern const bf_java_method bf_java_methods[];
extern const int bf_java_method_count;
/* Exported (as the other bf_ symbols below) for the NVML stand-in, whose calls go through this JVM too. */
extern BF_EXPORT jmethodID bf_java_method_ids[];

/* Generated: the runtime's start and exit in DriverBridge, and its natives with their implementations here. */
extern const bf_java_method bf_bridge_start;
extern const bf_java_method bf_bridge_exit;
extern const JNINativeMethod bf_bridge_natives[];
extern const int bf_bridge_native_count;

/** dev.bitfusion.bridge.DriverBridge, once the JVM runs. */
extern BF_EXPORT jclass bf_bridge_class;

/**
 * Make sure the JVM runs and this thread is attached to it.
 *
 * @return CUDA_SUCCESS with *env set, CUDA_ERROR_NOT_INITIALIZED when the JVM cannot start or this is a
 *         forked child of a process that used the driver, CUDA_ERROR_DEINITIALIZED after process exit began.
 */
BF_EXPORT CUresult bf_enter(JNIEnv **env);

/** The status a trampoline returned; a pending Java exception (never expected) becomes CUDA_ERROR_UNKNOWN. */
BF_EXPORT CUresult bf_check(JNIEnv *env, jint status);

#define BF_PTR(p) ((jlong)(intptr_t)(p))

/* CU_STREAM_PER_THREAD: what a NULL stream means to the _ptsz variants of the calls. */
#define BF_STREAM_PER_THREAD ((void *)0x2)

#endif
