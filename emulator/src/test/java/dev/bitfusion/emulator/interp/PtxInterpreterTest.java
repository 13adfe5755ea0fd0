package dev.bitfusion.emulator.interp;

import dev.bitfusion.emulator.EmulatedFunction;
import dev.bitfusion.emulator.Emulator;
import dev.bitfusion.emulator.EmulatorException;
import dev.bitfusion.emulator.memory.DeviceAddressSpace;
import dev.bitfusion.emulator.memory.DeviceMemory;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PtxInterpreterTest
{
    private static final String HEADER = ".version 8.0\n.target sm_75\n.address_size 64\n";

    private final DeviceMemory memory = new DeviceMemory(new DeviceAddressSpace(), 1L << 26);

    @AfterEach
    void after()
    {
        memory.close();
    }

    /** Runs {@code body} in a kernel k(u64 out) with %rd0 = out + 8 * linear thread id. */
    private long[] run(final String declarations, final String body, final int threads) throws EmulatorException
    {
        final String ptx = HEADER + declarations + ".visible .entry k(.param .u64 out)\n{\n" +
            ".reg .b64 %rd<8>;\n.reg .b32 %r<16>;\n.reg .pred %p<8>;\n.reg .f32 %f<8>;\n.reg .f64 %fd<4>;\n" +
            ".reg .b16 %rs<4>;\n" +
            "ld.param.u64 %rd1, [out];\nmov.u32 %r15, %tid.x;\nmul.wide.u32 %rd2, %r15, 8;\n" +
            "add.s64 %rd0, %rd1, %rd2;\n" + body + "\nret;\n}\n";
        final EmulatedFunction function = Emulator.load(ptx.getBytes(StandardCharsets.US_ASCII), memory).function("k");
        final long out = memory.allocate(8L * threads);
        final UnsafeBuffer params = new UnsafeBuffer(new byte[8]);
        params.putLong(0, out, ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, function.launch(1, 1, 1, threads, 1, 1, 0, params, 0, s -> { }),
            ((InterpretedFunction)function).lastFaultMessage());
        final long[] result = new long[threads];
        for (int i = 0; i < threads; i++)
        {
            result[i] = UnsafeApi.getLong(memory.hostAddress(out, 8L * threads) + 8L * i);
        }
        return result;
    }

    @Test
    void shouldShuffleDownAndXorWithinWarp() throws Exception
    {
        final long[] down = run("", "shfl.sync.down.b32 %r1|%p1, %r15, 3, 31, -1;\nselp.u32 %r2, 1000, 0, %p1;\n" +
            "add.s32 %r3, %r1, %r2;\ncvt.u64.u32 %rd3, %r3;\nst.global.u64 [%rd0], %rd3;", 32);
        assertEquals(1003, down[0]);
        assertEquals(1031, down[28]);
        assertEquals(29, down[29]);
        final long[] xor = run("", "shfl.sync.bfly.b32 %r1, %r15, 1, 31, -1;\ncvt.u64.u32 %rd3, %r1;\n" +
            "st.global.u64 [%rd0], %rd3;", 32);
        assertEquals(1, xor[0]);
        assertEquals(30, xor[31]);
    }

    @Test
    void shouldBallotOnlyArrivedLanesWhenDiverged() throws Exception
    {
        final long[] result = run("", "setp.lt.u32 %p1, %r15, 8;\n@%p1 bra LOW;\n" +
            "and.b32 %r2, %r15, 1;\nsetp.eq.u32 %p2, %r2, 1;\nvote.sync.ballot.b32 %r1, %p2, -256;\nbra DONE;\n" +
            "LOW:\nactivemask.b32 %r1;\nDONE:\ncvt.u64.u32 %rd3, %r1;\nst.global.u64 [%rd0], %rd3;", 32);
        assertEquals(0xFFL, result[0]);
        assertEquals(0xAAAAAA00L, result[9]);
    }

    @Test
    void shouldCountPredicatesAcrossBarrier() throws Exception
    {
        final long[] result = run("", "and.b32 %r2, %r15, 3;\nsetp.eq.u32 %p1, %r2, 0;\n" +
            "bar.red.popc.u32 %r1, 0, %p1;\ncvt.u64.u32 %rd3, %r1;\nst.global.u64 [%rd0], %rd3;", 64);
        assertEquals(16, result[0]);
        assertEquals(16, result[63]);
    }

    @Test
    void shouldExchangeThroughSharedMemoryAcrossBarrier() throws Exception
    {
        final long[] result = run(".shared .align 4 .b8 s[512];\n", "mov.u32 %r1, s;\nshl.b32 %r2, %r15, 2;\n" +
            "add.s32 %r3, %r1, %r2;\nst.shared.u32 [%r3], %r15;\nbar.sync 0;\nsub.s32 %r4, 127, %r15;\n" +
            "shl.b32 %r5, %r4, 2;\nadd.s32 %r6, %r1, %r5;\nld.shared.u32 %r7, [%r6];\ncvt.u64.u32 %rd3, %r7;\n" +
            "st.global.u64 [%rd0], %rd3;", 128);
        assertEquals(127, result[0]);
        assertEquals(0, result[127]);
    }

    @Test
    void shouldSynchroniseNamedBarriersByThreadCount() throws Exception
    {
        final long[] result = run(".shared .align 4 .b8 s[512];\n", "mov.u32 %r1, s;\nshl.b32 %r2, %r15, 2;\n" +
            "add.s32 %r3, %r1, %r2;\nst.shared.u32 [%r3], %r15;\nshr.u32 %r8, %r15, 6;\nadd.s32 %r8, %r8, 1;\n" +
            "bar.sync %r8, 64;\nxor.b32 %r4, %r15, 63;\n" +
            "shl.b32 %r5, %r4, 2;\nadd.s32 %r6, %r1, %r5;\nld.shared.u32 %r7, [%r6];\ncvt.u64.u32 %rd3, %r7;\n" +
            "st.global.u64 [%rd0], %rd3;", 128);
        assertEquals(63, result[0]);
        assertEquals(64, result[127]);
    }

    @Test
    void shouldExtractInsertAndPermuteBits() throws Exception
    {
        final long[] result = run("", "mov.u32 %r1, 0xF0F0A5C3;\nbfe.s32 %r2, %r1, 4, 8;\nbfe.u32 %r3, %r1, 28, 8;\n" +
            "bfi.b32 %r4, 0xF, 0, 8, 4;\nprmt.b32 %r5, %r1, 0x11223344, 0x7340;\nbrev.b32 %r6, 1;\n" +
            "cvt.u64.u32 %rd3, %r2;\nst.global.u64 [%rd0], %rd3;\n" +
            "setp.eq.u32 %p1, %r3, 15;\nsetp.eq.u32 %p2, %r4, 0xF00;\nand.pred %p3, %p1, %p2;\n" +
            "setp.eq.u32 %p4, %r5, 0x11F044C3;\nand.pred %p3, %p3, %p4;\nsetp.eq.u32 %p5, %r6, 0x80000000;\n" +
            "and.pred %p3, %p3, %p5;\n@!%p3 trap;", 1);
        assertEquals(0x5CL, result[0]);
    }

    @Test
    void shouldConvertWithSaturationAndRounding() throws Exception
    {
        final long[] result = run("", "mov.f32 %f1, 0f40300000;\ncvt.rni.s32.f32 %r1, %f1;\n" +
            "mov.f32 %f2, 0fC0300000;\ncvt.rmi.s32.f32 %r2, %f2;\ncvt.sat.u8.s32 %r3, 300;\n" +
            "mov.f32 %f3, 0f7F800000;\ncvt.rzi.s32.f32 %r4, %f3;\ncvt.rn.f16.f32 %rs1, %f1;\n" +
            "cvt.f32.f16 %f4, %rs1;\nsetp.eq.f32 %p1, %f4, %f1;\n@!%p1 trap;\n" +
            "mul.lo.s32 %r5, %r1, 1000;\nadd.s32 %r5, %r5, %r2;\ncvt.s64.s32 %rd3, %r5;\n" +
            "st.global.u64 [%rd0], %rd3;\nsetp.ne.s32 %p2, %r3, 255;\n@%p2 trap;\n" +
            "setp.ne.s32 %p3, %r4, 2147483647;\n@%p3 trap;", 1);
        assertEquals(3000 - 3, result[0]);
    }

    @Test
    void shouldPropagateCarryThrough64BitAdditionOf32BitHalves() throws Exception
    {
        final long[] result = run("", "add.cc.u32 %r1, -1, 1;\naddc.u32 %r2, 5, 0;\nmov.b64 %rd3, {%r1, %r2};\n" +
            "st.global.u64 [%rd0], %rd3;", 1);
        assertEquals(6L << 32, result[0]);
    }

    @Test
    void shouldCallDeviceFunctionWithLocalStack() throws Exception
    {
        final String ptx = HEADER +
            ".func (.param .b32 ret) fact(.param .b32 n)\n{\n.reg .b32 %r<4>;\n.reg .pred %p1;\n" +
            ".local .align 4 .b8 depot[8];\n.reg .b64 %rd1;\n" +
            "ld.param.u32 %r1, [n];\nmov.u64 %rd1, depot;\nst.local.u32 [%rd1+4], %r1;\n" +
            "setp.le.u32 %p1, %r1, 1;\n@%p1 bra BASE;\nsub.s32 %r2, %r1, 1;\n" +
            "{\n.param .b32 a;\n.param .b32 r;\nst.param.b32 [a], %r2;\ncall.uni (r), fact, (a);\n" +
            "ld.param.b32 %r3, [r];\n}\nld.local.u32 %r1, [%rd1+4];\nmul.lo.s32 %r3, %r3, %r1;\n" +
            "st.param.b32 [ret], %r3;\nret;\nBASE:\nst.param.b32 [ret], 1;\nret;\n}\n" +
            ".visible .entry k(.param .u64 out)\n{\n.reg .b64 %rd<2>;\n.reg .b32 %r<2>;\n" +
            "ld.param.u64 %rd1, [out];\n{\n.param .b32 a;\n.param .b32 r;\nst.param.b32 [a], 10;\n" +
            "call.uni (r), fact, (a);\nld.param.b32 %r1, [r];\n}\nst.global.u32 [%rd1], %r1;\nret;\n}\n";
        final EmulatedFunction function = Emulator.load(ptx.getBytes(StandardCharsets.US_ASCII), memory).function("k");
        final long out = memory.allocate(4);
        final UnsafeBuffer params = new UnsafeBuffer(new byte[8]);
        params.putLong(0, out, ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, function.launch(1, 1, 1, 1, 1, 1, 0, params, 0, s -> { }),
            ((InterpretedFunction)function).lastFaultMessage());
        assertEquals(3628800, UnsafeApi.getInt(memory.hostAddress(out, 4)));
    }

    @Test
    void shouldFailLaunchOnTrap()
    {
        final AssertionError error = assertThrows(AssertionError.class, () -> run("", "trap;", 1));
        assertTrue(error.getMessage().contains("trap"), error.getMessage());
    }

    @Test
    void shouldRejectUnsupportedInstructionAtLoadNamingIt()
    {
        final EmulatorException ex = assertThrows(EmulatorException.class,
            () -> run("", "tex.2d.v4.f32.f32 {%f1, %f2, %f3, %f4}, [%rd1, {%f1, %f2}];", 1));
        assertEquals(801, ex.cudaError());
        assertTrue(ex.getMessage().contains("tex.2d.v4.f32.f32") && ex.getMessage().contains("line 16"),
            ex.getMessage());
    }

    @Test
    void shouldRejectGarbageAndMalformedPtx()
    {
        assertEquals(200, assertThrows(EmulatorException.class,
            () -> Emulator.load(new byte[]{ 1, 2, 3, 4, 5 }, memory)).cudaError());
        assertEquals(218, assertThrows(EmulatorException.class,
            () -> Emulator.load((HEADER + ".visible .entry k( {").getBytes(StandardCharsets.US_ASCII), memory))
            .cudaError());
    }
}
