package dev.bitfusion.systemtests.jvmapps;

import org.bytedeco.cuda.nvml.nvmlDevice_st;
import org.bytedeco.cuda.nvml.nvmlMemory_t;
import org.bytedeco.javacpp.IntPointer;

import java.nio.charset.StandardCharsets;

import static org.bytedeco.cuda.global.nvml.*;

/**
 * A monitoring client on JavaCPP's NVML preset: it prints what NVML says of GPU 0 (count, name, memory) and
 * checks the memory is the slice it was given.
 * <p>
 * Arguments: SLICE_MIB.
 */
public final class JavaCppNvmlQuery
{
    private JavaCppNvmlQuery()
    {
    }

    public static void main(final String[] args)
    {
        check(nvmlInit_v2(), "nvmlInit_v2");
        final IntPointer count = new IntPointer(1);
        check(nvmlDeviceGetCount_v2(count), "nvmlDeviceGetCount_v2");
        final nvmlDevice_st device = new nvmlDevice_st();
        check(nvmlDeviceGetHandleByIndex_v2(0, device), "nvmlDeviceGetHandleByIndex_v2");
        final byte[] name = new byte[96];
        check(nvmlDeviceGetName(device, name, name.length), "nvmlDeviceGetName");
        final nvmlMemory_t memory = new nvmlMemory_t();
        check(nvmlDeviceGetMemoryInfo(device, memory), "nvmlDeviceGetMemoryInfo");
        final long sliceMib = Long.parseLong(args[0]);
        System.out.println("JavaCppNvmlQuery: " + count.get() + " GPU: " + new String(name, 0, length(name), StandardCharsets.UTF_8) + ", " +
            (memory.total() >> 20) + " MiB total, " + (memory._free() >> 20) + " MiB free");
        if (count.get() != 1 || memory.total() != sliceMib << 20 || memory._free() > memory.total())
        {
            System.out.println("JavaCppNvmlQuery: FAILED");
            System.exit(1);
        }
        check(nvmlShutdown(), "nvmlShutdown");
        System.out.println("JavaCppNvmlQuery: PASSED");
    }

    private static int length(final byte[] text)
    {
        int length = 0;
        while (length < text.length && text[length] != 0)
        {
            length++;
        }
        return length;
    }

    private static void check(final int status, final String call)
    {
        if (status != NVML_SUCCESS)
        {
            System.out.println("JavaCppNvmlQuery: FAILED: " + call + " returned " + status + " (" +
                nvmlErrorString(status).getString() + ")");
            System.exit(1);
        }
    }
}
