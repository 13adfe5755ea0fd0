package dev.bitfusion.emulator.interp;

import dev.bitfusion.emulator.EmulatedModule;
import dev.bitfusion.emulator.Emulator;
import dev.bitfusion.emulator.EmulatorException;
import dev.bitfusion.emulator.memory.DeviceAddressSpace;
import dev.bitfusion.emulator.memory.DeviceMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmulatorFatbinTest
{
    private final DeviceMemory memory = new DeviceMemory(new DeviceAddressSpace(), 1L << 26);

    @AfterEach
    void after()
    {
        memory.close();
    }

    @Test
    void shouldUseCompressedPtxWhenFatbinAlsoHoldsMachineCode() throws Exception
    {
        final EmulatedModule module = Emulator.load(EmulatorInterpreterTest.resource("ptx_and_elf.fatbin"), memory);
        assertNotNull(module.function("_Z6vecAddPKfS0_Pfi"));
        assertNotNull(module.global("coef"));
        assertEquals(16, module.global("coef").sizeBytes());
        assertEquals(4, memory.allocationCount());
        module.unload();
        assertEquals(0, memory.allocationCount());
    }

    @Test
    void shouldLoadLz4CompressedPtx() throws Exception
    {
        // nvcc -fatbin -gencode arch=compute_75,code=compute_75 -Xfatbin -compress-all -compress-mode=speed
        final EmulatedModule module = Emulator.load(EmulatorInterpreterTest.resource("vector_add_lz4.fatbin"), memory);
        assertNotNull(module.function("vectorAdd"));
        assertEquals(4, module.function("vectorAdd").parameterCount());
    }

    @Test
    void shouldLoadFatbinBehindCudartWrapperHeader() throws Exception
    {
        final byte[] fatbin = EmulatorInterpreterTest.resource("va.fatbin");
        final ByteBuffer wrapped = ByteBuffer.allocate(16 + fatbin.length).order(ByteOrder.LITTLE_ENDIAN);
        wrapped.putInt(0x466243B1).putInt(1).putLong(0).put(fatbin);
        assertNotNull(Emulator.load(wrapped.array(), memory).function("_Z3redPKfPfi"));
    }

    @Test
    void shouldRejectCubinNamingItsArchitecture()
    {
        final EmulatorException ex = assertThrows(EmulatorException.class,
            () -> Emulator.load(EmulatorInterpreterTest.resource("va.cubin"), memory));
        assertEquals(209, ex.cudaError());
        assertTrue(ex.getMessage().contains("sm_75"), ex.getMessage());
    }
}
