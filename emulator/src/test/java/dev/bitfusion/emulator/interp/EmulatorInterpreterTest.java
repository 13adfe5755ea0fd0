package dev.bitfusion.emulator.interp;

import dev.bitfusion.emulator.EmulatedFunction;
import dev.bitfusion.emulator.EmulatedModule;
import dev.bitfusion.emulator.Emulator;
import dev.bitfusion.emulator.EmulatorException;
import dev.bitfusion.emulator.memory.DeviceAddressSpace;
import dev.bitfusion.emulator.memory.DeviceMemory;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmulatorInterpreterTest
{
    private final DeviceMemory memory = new DeviceMemory(new DeviceAddressSpace(), 1L << 30);

    @AfterEach
    void after()
    {
        memory.close();
    }

    static byte[] resource(final String name) throws IOException
    {
        try (InputStream in = EmulatorInterpreterTest.class.getResourceAsStream("/interp/" + name))
        {
            return in.readAllBytes();
        }
    }

    @Test
    void shouldAddOneMillionElementsFromPtx() throws Exception
    {
        vectorAdd(Emulator.load(resource("va.ptx"), memory), 1 << 20);
    }

    @Test
    void shouldAddVectorsFromCompressedFatbin() throws Exception
    {
        vectorAdd(Emulator.load(resource("va.fatbin"), memory), 1000);
    }

    @Test
    void shouldRejectMachineCodeOnlyFatbin()
    {
        final EmulatorException ex = assertThrows(EmulatorException.class,
            () -> Emulator.load(resource("elf.fatbin"), memory));
        assertEquals(209, ex.cudaError());
        assertTrue(ex.getMessage().contains("sm_75"), ex.getMessage());
    }

    @Test
    void shouldReduceWithShufflesBarrierAtomicsAndPrintf() throws Exception
    {
        final EmulatedModule module = Emulator.load(resource("va.ptx"), memory);
        final int n = 100_000;
        final long in = memory.allocate(4L * n);
        final long out = memory.allocate(4);
        for (int i = 0; i < n; i++)
        {
            UnsafeApi.putFloat(memory.hostAddress(in, 4L * n) + 4L * i, 1.0f);
        }
        final EmulatedFunction red = module.function("_Z3redPKfPfi");
        final UnsafeBuffer params = new UnsafeBuffer(new byte[red.parameterBufferSize()]);
        params.putLong(red.parameterOffset(0), in, ByteOrder.LITTLE_ENDIAN);
        params.putLong(red.parameterOffset(1), out, ByteOrder.LITTLE_ENDIAN);
        params.putInt(red.parameterOffset(2), n, ByteOrder.LITTLE_ENDIAN);
        final List<String> printed = new ArrayList<>();
        final int result = red.launch(64, 1, 1, 256, 1, 1, 0, params, 0, printed::add);
        assertEquals(0, result, ((InterpretedFunction)red).lastFaultMessage());
        assertEquals((float)n, UnsafeApi.getFloat(memory.hostAddress(out, 4)));
        assertEquals(64, printed.size());
        assertTrue(printed.get(0).startsWith("hello 100000 "), printed.get(0));
        assertTrue(printed.get(0).endsWith(" x\n"), printed.get(0));
    }

    private void vectorAdd(final EmulatedModule module, final int n)
    {
        final EmulatedFunction add = module.function("_Z6vecAddPKfS0_Pfi");
        final long a = memory.allocate(4L * n);
        final long b = memory.allocate(4L * n);
        final long c = memory.allocate(4L * n);
        for (int i = 0; i < n; i++)
        {
            UnsafeApi.putFloat(memory.hostAddress(a, 4L * n) + 4L * i, i);
            UnsafeApi.putFloat(memory.hostAddress(b, 4L * n) + 4L * i, 2 * i);
        }
        final UnsafeBuffer params = new UnsafeBuffer(new byte[add.parameterBufferSize()]);
        params.putLong(add.parameterOffset(0), a, ByteOrder.LITTLE_ENDIAN);
        params.putLong(add.parameterOffset(1), b, ByteOrder.LITTLE_ENDIAN);
        params.putLong(add.parameterOffset(2), c, ByteOrder.LITTLE_ENDIAN);
        params.putInt(add.parameterOffset(3), n, ByteOrder.LITTLE_ENDIAN);
        for (int run = 0; run < 3; run++)
        {
            final long start = System.nanoTime();
            final int result = add.launch((n + 255) / 256, 1, 1, 256, 1, 1, 0, params, 0, s -> { });
            final long elapsed = System.nanoTime() - start;
            assertEquals(0, result, ((InterpretedFunction)add).lastFaultMessage());
            System.out.printf("vecAdd n=%d took %.1f ms%n", n, elapsed / 1e6);
        }
        for (int i = 0; i < n; i++)
        {
            assertEquals(3.0f * i, UnsafeApi.getFloat(memory.hostAddress(c, 4L * n) + 4L * i));
        }
        final UnsafeBuffer bad = new UnsafeBuffer(new byte[add.parameterBufferSize()]);
        bad.putLong(add.parameterOffset(0), a, ByteOrder.LITTLE_ENDIAN);
        bad.putLong(add.parameterOffset(1), b, ByteOrder.LITTLE_ENDIAN);
        bad.putLong(add.parameterOffset(2), c + 8, ByteOrder.LITTLE_ENDIAN);
        bad.putInt(add.parameterOffset(3), n, ByteOrder.LITTLE_ENDIAN);
        assertEquals(700, add.launch((n + 255) / 256, 1, 1, 256, 1, 1, 0, bad, 0, s -> { }));
        assertEquals(1, add.launch(1, 1, 1, 2048, 1, 1, 0, params, 0, s -> { }));
    }
}
