package dev.bitfusion.bridge;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The two halves of the bridge agree: every method the C library resolves or registers when the JVM starts
 * (the generated tables in forwarded_calls.c: the trampolines, the runtime's start and exit, the natives) is
 * a static method of the compiled {@link DriverBridge} with exactly that JNI signature, and no other static
 * method is there. A mismatch would otherwise surface only when a program starts.
 */
class BridgeSignaturesTest
{
    private static final Path GENERATED_C = Path.of("target/native-gen/forwarded_calls.c");
    private static final Pattern ROW = Pattern.compile("\\{\"(\\w+)\", \"(\\([IJ]*\\)[IV])\"");

    @Test
    void shouldResolveEveryTrampolineTheLibraryLooksUpWithItsSignature() throws IOException
    {
        final Map<String, String> lookedUp = lookedUpByC();
        final Map<String, String> compiled = trampolines();

        assertFalse(lookedUp.isEmpty(), "no trampolines found in " + GENERATED_C);
        assertEquals(lookedUp, compiled);
    }

    @Test
    void shouldForwardTheCallsThatNeedTheRuntime() throws IOException
    {
        final Map<String, String> lookedUp = lookedUpByC();

        assertEquals("(JJ)I", lookedUp.get("cuMemAlloc_v2"));
        assertEquals("(JIIIIIIIJJJ)I", lookedUp.get("cuLaunchKernel"));
        assertEquals("(I)I", lookedUp.get("bridgeStart"));
        assertEquals("(JJIJ)V", lookedUp.get("callStreamCallback"));
        assertTrue(!lookedUp.containsKey("cuGetProcAddress_v2") && !lookedUp.containsKey("cuGetErrorString"),
            "calls answered without a JVM are not forwarded");
    }

    private static Map<String, String> lookedUpByC() throws IOException
    {
        final Map<String, String> rows = new LinkedHashMap<>();
        final Matcher row = ROW.matcher(Files.readString(GENERATED_C));
        while (row.find())
        {
            rows.put(row.group(1), row.group(2));
        }
        return rows;
    }

    private static Map<String, String> trampolines()
    {
        final Map<String, String> methods = new HashMap<>();
        for (final Method method : DriverBridge.class.getDeclaredMethods())
        {
            if (Modifier.isStatic(method.getModifiers()) && !method.isSynthetic())
            {
                methods.put(method.getName(),
                    MethodType.methodType(method.getReturnType(), method.getParameterTypes()).toMethodDescriptorString());
            }
        }
        return methods;
    }
}
