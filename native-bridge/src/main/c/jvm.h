/*
 * The JVM embedded in the application: started on the first driver call that needs it.
 */
#ifndef BITFUSION_JVM_H
#define BITFUSION_JVM_H

#include <jni.h>
#include "bridge.h"

extern jclass bf_driver_class;

/**
 * Make sure the JVM runs and this thread is attached to it.
 *
 * @return CUDA_SUCCESS with *env set, CUDA_ERROR_NOT_INITIALIZED when the JVM cannot start or this is a
 *         forked child of a process that used the driver, CUDA_ERROR_DEINITIALIZED after process exit began.
 */
CUresult bf_enter(JNIEnv **env);

/** Look up a static method of NativeDriver; logs and returns NULL when it is missing. */
jmethodID bf_method(JNIEnv *env, const char *name, const char *signature);

/** Turn a pending Java exception into CUDA_ERROR_UNKNOWN (never let it cross into the application). */
CUresult bf_check(JNIEnv *env, const char *name, jint status);

#define BF_PTR(p) ((jlong)(intptr_t)(p))

/* Forward one driver call to the static method NativeDriver.NAME with the given JNI signature. */
#define BF_FORWARD(name, signature, ...)                                     \
    do                                                                       \
    {                                                                        \
        JNIEnv *env_;                                                        \
        const CUresult entered_ = bf_enter(&env_);                           \
        if (entered_ != CUDA_SUCCESS)                                        \
        {                                                                    \
            return entered_;                                                 \
        }                                                                    \
        static jmethodID method_;                                            \
        if (method_ == NULL)                                                 \
        {                                                                    \
            method_ = bf_method(env_, name, signature);                      \
            if (method_ == NULL)                                             \
            {                                                                \
                return CUDA_ERROR_UNKNOWN;                                   \
            }                                                                \
        }                                                                    \
        return bf_check(env_, name, (*env_)->CallStaticIntMethod(            \
            env_, bf_driver_class, method_, __VA_ARGS__));                   \
    } while (0)

#endif
