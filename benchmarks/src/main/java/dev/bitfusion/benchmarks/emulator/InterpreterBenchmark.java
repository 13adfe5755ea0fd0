package dev.bitfusion.benchmarks.emulator;

import dev.bitfusion.emulator.EmulatedFunction;
import dev.bitfusion.emulator.EmulatedModule;
import dev.bitfusion.emulator.Emulator;
import dev.bitfusion.emulator.memory.DeviceAddressSpace;
import dev.bitfusion.emulator.memory.DeviceMemory;
import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;

/**
 * Interpreted throughput of the emulated GPU on nvcc -O3 PTX ({@code bench_kernels.cu} beside this class):
 * a 1M-element vector add (goal: under one second per launch on a 2-core machine) and a 256x256 tiled
 * matmul with shared memory and barriers. Reports launches/s and, as an auxiliary counter, interpreted
 * PTX instructions/s.
 * <p>
 * Run: {@code mvn -pl benchmarks -am package -DskipTests && mvn -pl benchmarks exec:exec -Djmh.args=InterpreterBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = { "--add-opens", "java.base/jdk.internal.misc=ALL-UNNAMED" })
public class InterpreterBenchmark
{
    private static final int VECTOR_ELEMENTS = 1 << 20;
    private static final int MATRIX_N = 256;
    private static final int TILE = 16;

    /**
     * Interpreted instructions per second, reported beside the launch rate.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Instructions
    {
        /** PTX instructions interpreted; JMH reports it as a rate. */
        public long instructions;

        @Setup(Level.Iteration)
        public void reset()
        {
            instructions = 0;
        }
    }

    private DeviceMemory memory;
    private EmulatedFunction vectorAdd;
    private EmulatedFunction matmul;
    private UnsafeBuffer vectorParameters;
    private UnsafeBuffer matmulParameters;

    @Setup
    public void setUp() throws Exception
    {
        memory = new DeviceMemory(new DeviceAddressSpace(), 1L << 30);
        final EmulatedModule module = Emulator.load(ptx(), memory);
        vectorAdd = module.function("vector_add");
        matmul = module.function("matmul");

        final long a = filled(VECTOR_ELEMENTS, 1.0f);
        final long b = filled(VECTOR_ELEMENTS, 2.0f);
        final long c = filled(VECTOR_ELEMENTS, 0.0f);
        vectorParameters = parameters(vectorAdd, a, b, c, VECTOR_ELEMENTS);

        final int cells = MATRIX_N * MATRIX_N;
        matmulParameters = parameters(matmul, filled(cells, 1.0f), filled(cells, 0.5f), filled(cells, 0.0f), MATRIX_N);
    }

    @TearDown
    public void tearDown()
    {
        memory.close();
    }

    @Benchmark
    public int vectorAdd1M(final Instructions counter)
    {
        final long before = vectorAdd.instructionsExecuted();
        final int result = vectorAdd.launch(
            VECTOR_ELEMENTS / 256, 1, 1, 256, 1, 1, 0, vectorParameters, 0, text -> { });
        counter.instructions += vectorAdd.instructionsExecuted() - before;
        return check(result);
    }

    @Benchmark
    public int matmul256(final Instructions counter)
    {
        final long before = matmul.instructionsExecuted();
        final int blocks = MATRIX_N / TILE;
        final int result = matmul.launch(blocks, blocks, 1, TILE, TILE, 1, 0, matmulParameters, 0, text -> { });
        counter.instructions += matmul.instructionsExecuted() - before;
        return check(result);
    }

    private static int check(final int result)
    {
        if (result != 0)
        {
            throw new IllegalStateException("launch failed with CUresult " + result);
        }
        return result;
    }

    private long filled(final int count, final float value)
    {
        final long address = memory.allocate(4L * count);
        final long host = memory.hostAddress(address, 4L * count);
        for (int i = 0; i < count; i++)
        {
            UnsafeApi.putFloat(host + 4L * i, value);
        }
        return address;
    }

    private static UnsafeBuffer parameters(
        final EmulatedFunction function, final long a, final long b, final long c, final int n)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[function.parameterBufferSize()]);
        buffer.putLong(function.parameterOffset(0), a, ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(function.parameterOffset(1), b, ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(function.parameterOffset(2), c, ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(function.parameterOffset(3), n, ByteOrder.LITTLE_ENDIAN);
        return buffer;
    }

    private static byte[] ptx() throws IOException
    {
        try (InputStream in = InterpreterBenchmark.class.getResourceAsStream("bench_kernels.ptx"))
        {
            return in.readAllBytes();
        }
    }
}
