package dev.bitfusion.emulator.corpus;

import dev.bitfusion.emulator.EmulatedFunction;
import dev.bitfusion.emulator.EmulatedModule;
import dev.bitfusion.emulator.Emulator;
import dev.bitfusion.emulator.EmulatorException;
import dev.bitfusion.emulator.GlobalSymbol;
import dev.bitfusion.emulator.memory.DeviceAddressSpace;
import dev.bitfusion.emulator.memory.DeviceMemory;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_ILLEGAL_ADDRESS;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_INVALID_VALUE;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_LAUNCH_FAILED;
import static dev.bitfusion.cuda.CuResult.CUDA_ERROR_NO_BINARY_FOR_GPU;
import static dev.bitfusion.cuda.CuResult.CUDA_SUCCESS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs every kernel of the nvcc-built corpus ({@code src/test/cuda}, fixtures in
 * {@code src/test/resources/kernels}) on the emulated GPU and compares its output with a CPU reference.
 * Each kernel is loaded both from its PTX and from its fatbin (zstd-compressed PTX).
 * <p>
 * Float references are exact where the kernel's arithmetic is (inputs chosen so that every partial sum is
 * representable, or the PTX's fused multiply-adds mirrored with {@link Math#fma}); library math is compared
 * within a few ulps.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KernelCorpusTest
{
    private static final int CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1;

    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)");

    private DeviceMemory memory;
    private DeviceArrays arrays;
    private final List<EmulatedModule> modules = new ArrayList<>();
    private final List<String> printed = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void before()
    {
        memory = new DeviceMemory(new DeviceAddressSpace(), 1L << 30);
        arrays = new DeviceArrays(memory);
    }

    @AfterEach
    void after()
    {
        for (final EmulatedModule module : modules)
        {
            module.unload();
        }
        memory.close();
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldAddVectorsWhenOneMillionElements(final String format) throws Exception
    {
        final EmulatedFunction vectorAdd = load("vector_add", format).function("vectorAdd");
        final int n = 1 << 20;
        final SplittableRandom random = new SplittableRandom(1);
        final float[] a = new float[n];
        final float[] b = new float[n];
        final float[] expected = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)random.nextDouble(-1000, 1000);
            b[i] = (float)random.nextDouble(-1000, 1000);
            expected[i] = a[i] + b[i];
        }
        final long c = arrays.allocate(4L * n);

        launch(vectorAdd, n / 256, 256, 0, new KernelParameters(vectorAdd)
            .pointer(0, arrays.upload(a)).pointer(1, arrays.upload(b)).pointer(2, c).i32(3, n));

        assertArrayEquals(expected, arrays.readFloats(c, n));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldComputeSaxpyWithFusedMultiplyAddWhenParametersStartAtAnOffset(final String format) throws Exception
    {
        final EmulatedFunction saxpy = load("saxpy", format).function("saxpy");
        final int n = 300_001;
        final float alpha = 1.7f;
        final SplittableRandom random = new SplittableRandom(2);
        final float[] x = new float[n];
        final float[] y = new float[n];
        final float[] expected = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)random.nextDouble(-1, 1);
            y[i] = (float)random.nextDouble(-1, 1);
            expected[i] = Math.fma(alpha, x[i], y[i]);
        }
        final long deviceY = arrays.upload(y);

        launch(saxpy, (n + 255) / 256, 256, 0, new KernelParameters(saxpy, 24)
            .i32(0, n).f32(1, alpha).pointer(2, arrays.upload(x)).pointer(3, deviceY));

        assertArrayEquals(expected, arrays.readFloats(deviceY, n));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldMultiplyMatricesWhenTiledThroughSharedMemory(final String format) throws Exception
    {
        final EmulatedFunction matmul = load("matmul_tiled", format).function("matmulTiled");
        final int n = 128;
        final float[] a = new float[n * n];
        final float[] b = new float[n * n];
        for (int i = 0; i < n * n; i++)
        {
            // Multiples of 1/8 keep every product and partial sum exact, whatever the summation order.
            a[i] = ((i * 7) % 13 - 6) / 8f;
            b[i] = ((i * 5) % 11 - 5) / 8f;
        }
        final float[] expected = new float[n * n];
        for (int row = 0; row < n; row++)
        {
            for (int col = 0; col < n; col++)
            {
                float sum = 0;
                for (int k = 0; k < n; k++)
                {
                    sum += a[row * n + k] * b[k * n + col];
                }
                expected[row * n + col] = sum;
            }
        }
        final long c = arrays.allocate(4L * n * n);

        launch(matmul, n / 16, n / 16, 1, 16, 16, 1, 0, new KernelParameters(matmul)
            .pointer(0, arrays.upload(a)).pointer(1, arrays.upload(b)).pointer(2, c).i32(3, n));

        assertArrayEquals(expected, arrays.readFloats(c, n * n));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldReportStaticSharedMemoryWhenKernelDeclaresTiles(final String format) throws Exception
    {
        final EmulatedModule module = load("matmul_tiled", format);

        assertEquals(2 * 16 * 16 * 4, module.function("matmulTiled").attribute(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES));
        assertEquals(0, load("dynamic_shared", format).function("reverseSegments")
            .attribute(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES));
        assertNull(module.function("noSuchKernel"));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldSumOneMillionIntsWhenReducedWithShufflesAndAtomics(final String format) throws Exception
    {
        final EmulatedFunction reduce = load("reduce_sum", format).function("reduceSum");
        final int n = 1 << 20;
        final int[] in = new int[n];
        int expected = 0;
        for (int i = 0; i < n; i++)
        {
            in[i] = (int)((i * 2654435761L) % 2001) - 1000;
            expected += in[i];
        }
        final long out = arrays.allocate(4);

        launch(reduce, 120, 256, 0, new KernelParameters(reduce)
            .pointer(0, arrays.upload(in)).pointer(1, out).i32(2, n));

        assertEquals(expected, arrays.readInts(out, 1)[0]);
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldCountBytesWhenHistogramUsesSharedMemoryAtomics(final String format) throws Exception
    {
        final EmulatedFunction histogram = load("histogram", format).function("histogram256");
        final int n = 1 << 20;
        final byte[] data = new byte[n];
        final int[] expected = new int[256];
        final SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < n; i++)
        {
            // Skewed towards low values so that some bins see heavy contention.
            final int value = random.nextInt(4) == 0 ? random.nextInt(8) : random.nextInt(256);
            data[i] = (byte)value;
            expected[value]++;
        }
        final long bins = arrays.allocate(4 * 256);

        launch(histogram, 64, 256, 0, new KernelParameters(histogram)
            .pointer(0, arrays.upload(data)).i32(1, n).pointer(2, bins));

        assertArrayEquals(expected, arrays.readInts(bins, 256));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldComputeInclusivePrefixSumWhenScannedInThreeKernels(final String format) throws Exception
    {
        final EmulatedModule module = load("prefix_scan", format);
        final EmulatedFunction scanBlocks = module.function("scanBlocks");
        final EmulatedFunction scanBlockSums = module.function("scanBlockSums");
        final EmulatedFunction addBlockOffsets = module.function("addBlockOffsets");
        final int n = 50_000;
        final int blocks = (n + 255) / 256;
        final int[] in = new int[n];
        final int[] expected = new int[n];
        int running = 0;
        for (int i = 0; i < n; i++)
        {
            in[i] = (i * 37) % 19 - 9;
            running += in[i];
            expected[i] = running;
        }
        final long out = arrays.allocate(4L * n);
        final long blockSums = arrays.allocate(4L * blocks);

        launch(scanBlocks, blocks, 256, 0, new KernelParameters(scanBlocks)
            .pointer(0, arrays.upload(in)).pointer(1, out).pointer(2, blockSums).i32(3, n));
        launch(scanBlockSums, 1, 256, 0, new KernelParameters(scanBlockSums).pointer(0, blockSums).i32(1, blocks));
        launch(addBlockOffsets, blocks, 256, 0, new KernelParameters(addBlockOffsets)
            .pointer(0, out).pointer(1, blockSums).i32(2, n));

        assertArrayEquals(expected, arrays.readInts(out, n));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldTransposeWhenMatrixIsNotAMultipleOfTheTile(final String format) throws Exception
    {
        final EmulatedFunction transpose = load("transpose", format).function("transposePadded");
        final int rows = 200;
        final int cols = 300;
        final float[] in = new float[rows * cols];
        final float[] expected = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                in[r * cols + c] = r * 1000 + c + 0.25f;
                expected[c * rows + r] = in[r * cols + c];
            }
        }
        final long out = arrays.allocate(4L * rows * cols);

        launch(transpose, (cols + 31) / 32, (rows + 31) / 32, 1, 32, 8, 1, 0, new KernelParameters(transpose)
            .pointer(0, arrays.upload(in)).pointer(1, out).i32(2, rows).i32(3, cols));

        assertArrayEquals(expected, arrays.readFloats(out, rows * cols));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldApplyFivePointStencilWhenBordersAreCopied(final String format) throws Exception
    {
        final EmulatedFunction stencil = load("stencil_2d", format).function("stencil2d");
        final int width = 250;
        final int height = 190;
        final SplittableRandom random = new SplittableRandom(4);
        final float[] in = new float[width * height];
        for (int i = 0; i < in.length; i++)
        {
            in[i] = (float)random.nextDouble(-10, 10);
        }
        final float[] expected = new float[width * height];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                final int i = y * width + x;
                if (x == 0 || y == 0 || x == width - 1 || y == height - 1)
                {
                    expected[i] = in[i];
                }
                else
                {
                    // Scaling by powers of two is exact, so nvcc's fma(in, 0.5, 0.125 * sum) rounds the same.
                    expected[i] = 0.5f * in[i] + 0.125f * (in[i - 1] + in[i + 1] + in[i - width] + in[i + width]);
                }
            }
        }
        final long out = arrays.allocate(4L * width * height);

        launch(stencil, (width + 15) / 16, (height + 15) / 16, 1, 16, 16, 1, 0, new KernelParameters(stencil)
            .pointer(0, arrays.upload(in)).pointer(1, out).i32(2, width).i32(3, height));

        assertArrayEquals(expected, arrays.readFloats(out, width * height));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldMatchJavaMathWhenDoublePrecisionLibraryFunctionsRun(final String format) throws Exception
    {
        final EmulatedFunction doubleMath = load("double_math", format).function("doubleMath");
        final double[] large = { 1e3, 12345.678, 1e6, 3.0e9, 1e15, 1e22, 7.5e100 };
        final int n = 2048;
        final SplittableRandom random = new SplittableRandom(5);
        final double[] x = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = i < large.length ? large[i] : random.nextDouble(0.01, 100);
        }
        final long out = arrays.allocate(8L * 4 * n);

        launch(doubleMath, n / 128, 128, 0, new KernelParameters(doubleMath)
            .pointer(0, arrays.upload(x)).pointer(1, out).i32(2, n));

        final double[] actual = arrays.readDoubles(out, 4 * n);
        for (int i = 0; i < n; i++)
        {
            final double v = x[i];
            assertEquals(Math.sqrt(v), actual[4 * i], "sqrt(" + v + ")");
            assertUlps(StrictMath.exp(-v), actual[4 * i + 1], StrictMath.exp(-v), "exp(-" + v + ")");
            final double sinCos = StrictMath.sin(v) * StrictMath.cos(v);
            assertUlps(sinCos, actual[4 * i + 2], sinCos, "sin*cos(" + v + ")");
            final double logTerm = StrictMath.log(v) / v;
            final double fmaTerm = Math.fma(v, v, 1.0 / v);
            assertUlps(logTerm + fmaTerm, actual[4 * i + 3], Math.abs(logTerm) + Math.abs(fmaTerm), "log/fma(" + v + ")");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldRoundToNearestEvenWhenConvertingFloatsToHalves(final String format) throws Exception
    {
        final EmulatedFunction halfConvert = load("half_convert", format).function("halfConvert");
        final float[] special = {
            0f, -0f, 1f, -1f, 65504f, 65519.99f, 65520f, -65520f, 1e6f, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, 0x1p-14f, 0x1p-24f, 0x1p-25f, 0x1.0001p-25f, 0x1.8p-24f, 0x1p-26f, 1e-10f,
            1f + 0x1p-11f, 1f + 3 * 0x1p-11f, 2049f, 2051f, 32768f, 40000f, 0.1f, 1f / 3, 6.1e-5f, -6.0e-5f };
        final int n = 8192;
        final SplittableRandom random = new SplittableRandom(6);
        final float[] in = new float[n];
        for (int i = 0; i < n; i++)
        {
            in[i] = i < special.length ? special[i] :
                Math.scalb(1f + random.nextInt(1 << 23) / (float)(1 << 23), random.nextInt(-28, 17)) *
                (random.nextBoolean() ? 1 : -1);
        }
        final short[] expectedHalves = new short[n];
        final float[] expectedFloats = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            final short h = HalfPrecision.fromFloat(in[i]);
            expectedHalves[i] = h;
            expectedFloats[2 * i] = HalfPrecision.toFloat(h);
            // h + h is exact in binary16 unless it overflows, which rounds to infinity.
            expectedFloats[2 * i + 1] = HalfPrecision.toFloat(HalfPrecision.fromFloat(2 * HalfPrecision.toFloat(h)));
        }
        final long halves = arrays.allocate(2L * n);
        final long out = arrays.allocate(8L * n);

        launch(halfConvert, n / 256, 256, 0, new KernelParameters(halfConvert)
            .pointer(0, arrays.upload(in)).pointer(1, halves).pointer(2, out).i32(3, n));

        assertArrayEquals(expectedHalves, arrays.readShorts(halves, n));
        assertArrayEquals(expectedFloats, arrays.readFloats(out, 2 * n));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldCallNonInlinedDeviceFunctionsWhenKernelUsesCallAndRet(final String format) throws Exception
    {
        final EmulatedFunction deviceFunctions = load("device_functions", format).function("deviceFunctions");
        final int n = 10_000;
        final float[] coefficients = { 0.5f, -1.25f, 2f, 0.3f, -0.7f, 1.1f };
        final int degree = coefficients.length - 1;
        final int[] expectedHashes = new int[n];
        final float[] expectedValues = new float[n];
        final int[] expectedSteps = new int[n];
        for (int i = 0; i < n; i++)
        {
            expectedHashes[i] = mix(mix(i, 12345), 678);
            final float x = (float)i / n;
            float result = 0;
            for (int k = degree; k >= 0; k--)
            {
                result = Math.fma(result, x, coefficients[k]);
            }
            expectedValues[i] = result;
            expectedSteps[i] = collatzSteps(i + 1);
        }
        final long hashes = arrays.allocate(4L * n);
        final long values = arrays.allocate(4L * n);
        final long steps = arrays.allocate(4L * n);

        launch(deviceFunctions, (n + 127) / 128, 128, 0, new KernelParameters(deviceFunctions)
            .pointer(0, hashes).pointer(1, values).pointer(2, steps).pointer(3, arrays.upload(coefficients))
            .i32(4, degree).i32(5, n));

        assertArrayEquals(expectedHashes, arrays.readInts(hashes, n));
        assertArrayEquals(expectedValues, arrays.readFloats(values, n));
        assertArrayEquals(expectedSteps, arrays.readInts(steps, n));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldFormatDevicePrintfWhenThreadsPrint(final String format) throws Exception
    {
        final EmulatedFunction printfKernel = load("printf_kernel", format).function("printfKernel");

        launch(printfKernel, 3, 64, 0, new KernelParameters(printfKernel).i32(0, 10).f32(1, 1.5f));

        final List<String> expected = new ArrayList<>(List.of(
            "block 0 thread 0 value 10 scaled 0.000\n",
            "block 0 thread 1 value 11 scaled 1.500\n",
            "block 1 thread 0 value 10 scaled 0.000\n",
            "block 1 thread 1 value 11 scaled 1.500\n",
            "mixed 4000000000 -1234567890123 beef Z done 1.500000e+00\n"));
        final List<String> actual = new ArrayList<>(printed);
        Collections.sort(expected);
        Collections.sort(actual);
        assertEquals(expected, actual);
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldLayOutStructParametersWhenPassedByValue(final String format) throws Exception
    {
        final EmulatedFunction structParams = load("struct_params", format).function("structParams");
        assertEquals(5, structParams.parameterCount());
        final int[] offsets = new int[5];
        final int[] sizes = new int[5];
        for (int i = 0; i < 5; i++)
        {
            offsets[i] = structParams.parameterOffset(i);
            sizes[i] = structParams.parameterSize(i);
        }
        // char; .align 8 .b8 [24]; .align 4 .b8 [8]; two pointers.
        assertArrayEquals(new int[]{ 0, 8, 32, 40, 48 }, offsets);
        assertArrayEquals(new int[]{ 1, 24, 8, 8, 8 }, sizes);
        assertEquals(56, structParams.parameterBufferSize());

        final int begin = 10;
        final int end = 1000;
        final int stride = 3;
        final int[] in = new int[end * stride];
        for (int i = 0; i < in.length; i++)
        {
            in[i] = i * 13 % 101 - 50;
        }
        final long out = arrays.allocate(8L * end);
        final KernelParameters parameters = new KernelParameters(structParams).i8(0, (byte)'A');
        final UnsafeBuffer buffer = parameters.buffer();
        final int affine = parameters.struct(1, 24);
        buffer.putDouble(affine, 0.5);
        buffer.putFloat(affine + 8, 1.25f);
        buffer.putInt(affine + 12, stride);
        buffer.putLong(affine + 16, -7);
        final int range = parameters.struct(2, 8);
        buffer.putInt(range, begin);
        buffer.putInt(range + 4, end);
        parameters.pointer(3, arrays.upload(in)).pointer(4, out);

        launch(structParams, (end - begin + 127) / 128, 128, 0, parameters);

        final double[] expected = new double[end];
        for (int i = begin; i < end; i++)
        {
            expected[i] = 0.5 * in[i * stride] + 1.25 + -7.0 + 'A';
        }
        assertArrayEquals(expected, arrays.readDoubles(out, end));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldReadConstantMemoryWhenHostWritesItThroughModuleGlobal(final String format) throws Exception
    {
        final EmulatedModule module = load("constant_data", format);
        final EmulatedFunction convolve = module.function("convolve1d");
        final GlobalSymbol taps = module.global("taps");
        final GlobalSymbol gain = module.global("gain");
        assertNotNull(taps);
        assertNotNull(gain);
        assertNull(module.global("noSuchGlobal"));
        assertEquals(36, taps.sizeBytes());
        assertEquals(4, gain.sizeBytes());
        assertEquals(2.0f, arrays.view(gain.deviceAddress(), 4).getFloat(0), "initialiser of gain");

        final float[] tapValues = { 1 / 16f, 2 / 16f, 3 / 16f, 4 / 16f, 5 / 16f, -4 / 16f, -3 / 16f, -2 / 16f, -1 / 16f };
        final UnsafeBuffer tapsView = arrays.view(taps.deviceAddress(), 36);
        for (int k = 0; k < tapValues.length; k++)
        {
            tapsView.putFloat(4 * k, tapValues[k]);
        }
        arrays.view(gain.deviceAddress(), 4).putFloat(0, 0.5f);

        final int n = 10_000;
        final float[] in = new float[n];
        for (int i = 0; i < n; i++)
        {
            in[i] = (i * 17 % 41 - 20) / 8f;
        }
        final float[] expected = new float[n];
        for (int i = 0; i < n; i++)
        {
            float sum = 0;
            for (int k = 0; k < tapValues.length; k++)
            {
                final int j = i + k - tapValues.length / 2;
                if (j >= 0 && j < n)
                {
                    sum += tapValues[k] * in[j];
                }
            }
            expected[i] = 0.5f * sum;
        }
        final long out = arrays.allocate(4L * n);

        launch(convolve, (n + 255) / 256, 256, 0, new KernelParameters(convolve)
            .pointer(0, arrays.upload(in)).pointer(1, out).i32(2, n));

        assertArrayEquals(expected, arrays.readFloats(out, n));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldReverseSegmentsWhenSharedMemoryIsSizedAtLaunch(final String format) throws Exception
    {
        final EmulatedFunction reverse = load("dynamic_shared", format).function("reverseSegments");
        final int block = 128;
        final int n = block * 50 - 17;
        final int blocks = (n + block - 1) / block;
        final int[] in = new int[n];
        for (int i = 0; i < n; i++)
        {
            in[i] = i % 1000 - 300;
        }
        final int[] expectedOut = new int[n];
        final float[] expectedSums = new float[blocks];
        for (int i = 0; i < n; i++)
        {
            final int start = i / block * block;
            final int source = start + block - 1 - (i - start);
            expectedOut[i] = source < n ? in[source] : 0;
            expectedSums[i / block] += in[i];
        }
        final long out = arrays.allocate(4L * n);
        final long sums = arrays.allocate(4L * blocks);

        launch(reverse, blocks, block, 2 * 4 * block, new KernelParameters(reverse)
            .pointer(0, arrays.upload(in)).pointer(1, out).pointer(2, sums).i32(3, n));

        assertArrayEquals(expectedOut, arrays.readInts(out, n));
        assertArrayEquals(expectedSums, arrays.readFloats(sums, blocks));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldCoverEveryElementWhenGridStrideLoopRunsOnASmallGrid(final String format) throws Exception
    {
        final EmulatedFunction gridStride = load("grid_stride", format).function("gridStride");
        final int n = (1 << 20) + 3;
        final SplittableRandom random = new SplittableRandom(7);
        final int[] in = new int[n];
        final long[] expected = new long[n];
        for (int i = 0; i < n; i++)
        {
            in[i] = i < 4 ? new int[]{ 0, -1, 1, Integer.MIN_VALUE }[i] : random.nextInt();
            final long v = Integer.toUnsignedLong(in[i]);
            expected[i] = v * v + Integer.bitCount(in[i]) + ((long)Integer.numberOfLeadingZeros(in[i]) << 40) +
                Integer.toUnsignedLong(Integer.reverse(in[i]));
        }
        final long out = arrays.allocate(8L * n);

        launch(gridStride, 24, 256, 0, new KernelParameters(gridStride)
            .pointer(0, arrays.upload(in)).pointer(1, out).i64(2, n));

        assertArrayEquals(expected, arrays.readLongs(out, n));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldAccumulateWhen64BitAtomicsAndCasLoopsContend(final String format) throws Exception
    {
        final EmulatedFunction atomics = load("atomics64", format).function("atomics64");
        final int n = 1 << 16;
        final SplittableRandom random = new SplittableRandom(8);
        final long[] values = new long[n];
        long sum = 0;
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        long combined = 0;
        for (int i = 0; i < n; i++)
        {
            values[i] = random.nextLong(-1_000_000_000_000L, 1_000_000_000_000L);
            sum += values[i];
            min = Math.min(min, values[i]);
            max = Math.max(max, values[i]);
            combined += values[i] * 0x9e3779b97f4a7c15L;
        }
        final long deviceSum = arrays.allocate(8);
        final long minMax = arrays.upload(new long[]{ Long.MAX_VALUE, Long.MIN_VALUE });
        final long maxDouble = arrays.upload(new double[]{ Double.NEGATIVE_INFINITY });
        final long deviceCombined = arrays.allocate(8);
        final long count = arrays.allocate(8);

        launch(atomics, n / 256, 256, 0, new KernelParameters(atomics)
            .pointer(0, arrays.upload(values)).i32(1, n).pointer(2, deviceSum).pointer(3, minMax)
            .pointer(4, maxDouble).pointer(5, deviceCombined).pointer(6, count));

        assertEquals(sum, arrays.readLongs(deviceSum, 1)[0], "atomicAdd u64");
        assertArrayEquals(new long[]{ min, max }, arrays.readLongs(minMax, 2), "atomicMin/atomicMax s64");
        assertEquals(max * 0.5, arrays.readDoubles(maxDouble, 1)[0], "CAS loop double max");
        assertEquals(combined, arrays.readLongs(deviceCombined, 1)[0], "CAS loop multiply-accumulate");
        assertEquals(n, arrays.readLongs(count, 1)[0], "atomicAdd count");
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldVoteAcrossEachWarpWhenPredicateVariesByLane(final String format) throws Exception
    {
        final EmulatedFunction warpVote = load("warp_vote", format).function("warpVote");
        final int n = 1000;
        final int threads = 1024;
        final SplittableRandom random = new SplittableRandom(9);
        final int[] in = new int[n];
        for (int i = 0; i < n; i++)
        {
            // Warp 3 all odd, warp 5 all even, the rest mixed.
            in[i] = i / 32 == 3 ? 2 * i + 1 : i / 32 == 5 ? 2 * i : random.nextInt();
        }
        final int[] expectedBallots = new int[threads / 32];
        final int[] expectedAnyAll = new int[threads / 16];
        for (int warp = 0; warp < threads / 32; warp++)
        {
            int ballot = 0;
            for (int lane = 0; lane < 32; lane++)
            {
                final int i = warp * 32 + lane;
                if (i < n && (in[i] & 1) != 0)
                {
                    ballot |= 1 << lane;
                }
            }
            expectedBallots[warp] = ballot;
            expectedAnyAll[2 * warp] = ballot != 0 ? 1 : 0;
            expectedAnyAll[2 * warp + 1] = ballot == -1 ? 1 : 0;
        }
        final long ballots = arrays.allocate(4L * threads / 32);
        final long anyAll = arrays.allocate(4L * threads / 16);

        launch(warpVote, threads / 128, 128, 0, new KernelParameters(warpVote)
            .pointer(0, arrays.upload(in)).pointer(1, ballots).pointer(2, anyAll).i32(3, n));

        assertArrayEquals(expectedBallots, arrays.readInts(ballots, threads / 32));
        assertArrayEquals(expectedAnyAll, arrays.readInts(anyAll, threads / 16));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldReturnIllegalAddressWhenKernelWritesOutsideAnyAllocation(final String format) throws Exception
    {
        final EmulatedFunction fault = load("fault", format).function("faultKernel");
        final long data = arrays.allocate(4 * 64);

        launch(fault, 2, 32, 0, new KernelParameters(fault).pointer(0, data).i64(1, 0));
        final int[] expected = new int[64];
        for (int i = 0; i < 64; i++)
        {
            expected[i] = i;
        }
        assertArrayEquals(expected, arrays.readInts(data, 64));

        final KernelParameters wild = new KernelParameters(fault).pointer(0, data).i64(1, 1L << 36);
        assertEquals(CUDA_ERROR_ILLEGAL_ADDRESS, fault.launch(
            2, 1, 1, 32, 1, 1, 0, wild.buffer(), wild.offset(), printed::add));
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldFollowPtxSemanticsWhenBitFieldPermuteAndSaturatingConversionsRun(final String format) throws Exception
    {
        final EmulatedFunction bitOps = load("bit_ops", format).function("bitOps");
        final float[] special = {
            Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3e9f, -3e9f, 5e9f, -1.5f, 2.5f, 0.5f, 1.5f,
            0.999f, 1f, 1e20f, -0f, 0.25f, 254.5f / 255 };
        final int n = 4096;
        final SplittableRandom random = new SplittableRandom(10);
        final int[] a = new int[n];
        final int[] b = new int[n];
        final float[] f = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = i < 4 ? new int[]{ 0, -1, Integer.MIN_VALUE, 0x80 }[i] : random.nextInt();
            b[i] = i < 4 ? new int[]{ 0, 0x1f1f, 0x8a8b1f00, -1 }[i] : random.nextInt();
            f[i] = i < special.length ? special[i] :
                random.nextBoolean() ? (float)random.nextDouble(-1000, 1000) : (float)random.nextDouble(-0.5, 1.5);
        }
        final int[] expected = new int[16 * n];
        for (int i = 0; i < n; i++)
        {
            bitOpsReference(a[i], b[i], f[i], expected, 16 * i);
        }
        final long out = arrays.allocate(4L * 16 * n);

        launch(bitOps, n / 128, 128, 0, new KernelParameters(bitOps)
            .pointer(0, arrays.upload(a)).pointer(1, arrays.upload(b)).pointer(2, arrays.upload(f)).pointer(3, out)
            .i32(4, n));

        final int[] actual = arrays.readInts(out, 16 * n);
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < 16; k++)
            {
                final int index = 16 * i + k;
                assertEquals(expected[index], actual[index],
                    "o[" + k + "] for a=" + Integer.toHexString(a[i]) + " b=" + Integer.toHexString(b[i]) + " f=" + f[i]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldStayWithinPtxErrorBoundsWhenApproximateMathRuns(final String format) throws Exception
    {
        final EmulatedFunction fastMath = load("fast_math", format).function("fastMath");
        final float[] special = { 0f, 0.125f, -0.125f, 0.375f, 2.5f, -2.5f, 3.5f, 9.99f, -9.99f, 1f, -1f };
        final int n = 4096;
        final SplittableRandom random = new SplittableRandom(11);
        final float[] x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = i < special.length ? special[i] : (float)random.nextDouble(-10, 10);
        }
        final long out = arrays.allocate(4L * 10 * n);

        launch(fastMath, n / 256, 256, 0, new KernelParameters(fastMath)
            .pointer(0, arrays.upload(x)).pointer(1, out).i32(2, n));

        final float[] actual = arrays.readFloats(out, 10 * n);
        for (int i = 0; i < n; i++)
        {
            final float v = x[i];
            final int o = 10 * i;
            // PTX ISA bounds: sin/cos.approx 2^-20.5 absolute, ex2/lg2/rsqrt.approx about 2^-22 relative,
            // div.approx 2 ulp; __expf and __logf add the rounding of their scaling by log2(e) and ln(2).
            assertEquals(Math.sin(v), actual[o], 1e-5, "__sinf(" + v + ")");
            assertEquals(Math.cos(v), actual[o + 1], 1e-5, "__cosf(" + v + ")");
            assertEquals(Math.exp(v * 0.125f), actual[o + 2], 1e-5 * Math.exp(v * 0.125f), "__expf(" + v + "/8)");
            assertEquals(Math.log(Math.abs(v) + 1.0f), actual[o + 3], 1e-5, "__logf(|" + v + "|+1)");
            final double rsqrt = 1 / Math.sqrt(Math.abs(v) + 0.5f);
            assertEquals(rsqrt, actual[o + 4], 1e-5 * rsqrt, "rsqrtf(|" + v + "|+0.5)");
            assertEquals(v / 3.0, actual[o + 5], 1e-5 * Math.abs(v / 3.0) + Float.MIN_NORMAL, "__fdividef(" + v + ",3)");
            assertEquals((float)Math.sqrt(Math.abs(v)), actual[o + 6], 0f, "sqrtf(|" + v + "|)");
            assertEquals(v / 7.0f, actual[o + 7], 0f, v + "/7");
            assertEquals((float)Math.floor(v) + (float)Math.ceil(v * 0.5f) * 1000f, actual[o + 8], 0f, "floor/ceil " + v);
            assertEquals((float)Math.rint(v * 4f) + (int)(v * 0.25f) * 1000f, actual[o + 9], 0f, "rint/trunc " + v);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = { "ptx", "fatbin" })
    void shouldReturnLaunchFailedWhenKernelTraps(final String format) throws Exception
    {
        final EmulatedFunction trap = load("trap", format).function("trapOnNegative");
        final int n = 1024;
        final int[] in = new int[n];
        final int[] expected = new int[n];
        for (int i = 0; i < n; i++)
        {
            in[i] = i;
            expected[i] = 2 * i;
        }
        final long deviceIn = arrays.upload(in);
        final long out = arrays.allocate(4L * n);

        launch(trap, n / 128, 128, 0, new KernelParameters(trap).pointer(0, deviceIn).pointer(1, out).i32(2, n));
        assertArrayEquals(expected, arrays.readInts(out, n));

        arrays.view(deviceIn, 4L * n).putInt(4 * 777, -1);
        final KernelParameters parameters = new KernelParameters(trap).pointer(0, deviceIn).pointer(1, out).i32(2, n);
        assertEquals(CUDA_ERROR_LAUNCH_FAILED, trap.launch(
            n / 128, 1, 1, 128, 1, 1, 0, parameters.buffer(), parameters.offset(), printed::add));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "atomics64", "bit_ops", "constant_data", "device_functions", "double_math", "dynamic_shared", "fast_math",
        "fault", "grid_stride", "half_convert", "histogram", "matmul_tiled", "prefix_scan", "printf_kernel",
        "reduce_sum", "saxpy", "stencil_2d", "struct_params", "transpose", "trap", "vector_add", "warp_vote" })
    void shouldFindEveryEntryAndItsParametersWhenPtxAndFatbinOfAKernelLoad(final String kernel) throws Exception
    {
        final String ptx = new String(image(kernel, "ptx"), StandardCharsets.US_ASCII);
        final Matcher entry = ENTRY.matcher(ptx);
        int entries = 0;
        while (entry.find())
        {
            entries++;
            final String name = entry.group(1);
            final int declaredParameters = entry.group(2).isBlank() ? 0 : entry.group(2).split(",").length;
            for (final String format : List.of("ptx", "fatbin"))
            {
                final EmulatedFunction function = load(kernel, format).function(name);
                assertNotNull(function, name + " in " + kernel + "." + format);
                assertEquals(name, function.name());
                assertEquals(declaredParameters, function.parameterCount(), name + " parameters");
                final int last = declaredParameters - 1;
                assertEquals(
                    function.parameterOffset(last) + function.parameterSize(last), function.parameterBufferSize(),
                    name + " parameter buffer ends with its last parameter");
            }
        }
        assertTrue(entries > 0, "no .entry in " + kernel + ".ptx");
    }

    @Test
    void shouldRejectLaunchWhenBlockOrSharedMemoryExceedsDeviceLimits() throws Exception
    {
        final EmulatedFunction vectorAdd = load("vector_add", "ptx").function("vectorAdd");
        final long a = arrays.allocate(4 * 2048);
        final KernelParameters parameters = new KernelParameters(vectorAdd)
            .pointer(0, a).pointer(1, a).pointer(2, a).i32(3, 2048);

        assertEquals(CUDA_ERROR_INVALID_VALUE, vectorAdd.launch(
            1, 1, 1, 2048, 1, 1, 0, parameters.buffer(), parameters.offset(), printed::add), "block of 2048 threads");
        assertEquals(CUDA_ERROR_INVALID_VALUE, vectorAdd.launch(
            1, 1, 1, 256, 1, 1, 1 << 20, parameters.buffer(), parameters.offset(), printed::add), "1 MiB shared memory");
    }

    @Test
    void shouldFailWithNoBinaryForGpuWhenFatbinHoldsOnlyMachineCode() throws Exception
    {
        final byte[] image = image("sass_only", "fatbin");

        final EmulatorException ex = assertThrows(EmulatorException.class, () -> Emulator.load(image, memory));

        assertEquals(CUDA_ERROR_NO_BINARY_FOR_GPU, ex.cudaError());
        assertTrue(ex.getMessage().contains("sm_90"), "message names the architecture found: " + ex.getMessage());
    }

    private EmulatedModule load(final String kernel, final String format) throws IOException, EmulatorException
    {
        final EmulatedModule module = Emulator.load(image(kernel, format), memory);
        assertNotNull(module, kernel + "." + format);
        modules.add(module);
        return module;
    }

    private static byte[] image(final String kernel, final String format) throws IOException
    {
        final String resource = "/kernels/" + kernel + "." + format;
        try (InputStream in = KernelCorpusTest.class.getResourceAsStream(resource))
        {
            if (in == null)
            {
                fail("missing fixture " + resource);
            }
            return in.readAllBytes();
        }
    }

    private void launch(
        final EmulatedFunction function,
        final int grid,
        final int block,
        final int sharedMemBytes,
        final KernelParameters parameters)
    {
        launch(function, grid, 1, 1, block, 1, 1, sharedMemBytes, parameters);
    }

    private void launch(
        final EmulatedFunction function,
        final int gridX, final int gridY, final int gridZ,
        final int blockX, final int blockY, final int blockZ,
        final int sharedMemBytes,
        final KernelParameters parameters)
    {
        final int result = function.launch(
            gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes, parameters.buffer(), parameters.offset(),
            printed::add);
        assertEquals(CUDA_SUCCESS, result, function.name() + " launch");
    }

    private static void assertUlps(final double expected, final double actual, final double scale, final String what)
    {
        // CUDA's double library functions are within 2 ulps; a product or sum of two within a few more.
        final double tolerance = 16 * Math.ulp(scale) + Double.MIN_NORMAL;
        assertEquals(expected, actual, tolerance, what);
    }

    /**
     * The PTX ISA's definitions of what bit_ops.cu computes into {@code out[at..at+15]}.
     */
    private static void bitOpsReference(final int x, final int y, final float v, final int[] out, final int at)
    {
        final int pos = y & 31;
        final int len = (y >>> 8) & 31;
        out[at] = len == 0 ? 0 : (x >>> pos) & (int)((1L << len) - 1);

        final int available = Math.min(len, 32 - pos);
        final int field = len == 0 ? 0 : (x >>> pos) & (int)((1L << available) - 1);
        final int signBit = len == 0 ? 0 : (x >>> Math.min(pos + len - 1, 31)) & 1;
        out[at + 1] = signBit != 0 ? field | (int)~((1L << available) - 1) : field;

        final int insertMask = (int)(((1L << len) - 1) << pos);
        out[at + 2] = (x & ~insertMask) | ((y << pos) & insertMask);

        final long bytes = (Integer.toUnsignedLong(y) << 32) | Integer.toUnsignedLong(x);
        final int selector = (y >>> 16) & 0xffff;
        int permuted = 0;
        for (int i = 0; i < 4; i++)
        {
            final int nibble = (selector >>> (4 * i)) & 0xf;
            int value = (int)(bytes >>> (8 * (nibble & 7))) & 0xff;
            if ((nibble & 8) != 0)
            {
                value = (value & 0x80) != 0 ? 0xff : 0;
            }
            permuted |= value << (8 * i);
        }
        out[at + 3] = permuted;

        out[at + 4] = (int)((bytes << pos) >>> 32);
        out[at + 5] = (int)(bytes >>> Math.min(len, 32));
        out[at + 6] = (int)((Integer.toUnsignedLong(x) * Integer.toUnsignedLong(y)) >>> 32);
        out[at + 7] = (int)(((long)x * y) >> 32);
        out[at + 8] = (int)Math.abs(Integer.toUnsignedLong(x) - Integer.toUnsignedLong(y)) + 7;
        out[at + 9] = (x & y) == 0 ? 0 : Integer.numberOfTrailingZeros(x & y) + 1;
        final long wide = (Integer.toUnsignedLong(x) << 32) | Integer.toUnsignedLong(y);
        out[at + 10] = Long.bitCount(wide) + (Long.numberOfLeadingZeros(wide >>> (pos + 1)) << 8);
        out[at + 11] = (int)(Long.reverse(wide) >>> 16);
        out[at + 12] = Math.max(x, y) - Math.min(Math.abs(x), Math.abs(y));

        // Float-to-integer conversions saturate to the destination range and turn NaN into 0, as Java's casts do.
        out[at + 13] = (int)Math.rint(v);
        out[at + 14] = (int)Math.max(0, Math.min(0xffff_ffffL, (long)v));
        final float saturated = Float.isNaN(v) ? 0f : Math.max(0f, Math.min(1f, v));
        final long scaled = Math.max(0, Math.min(0xffff_ffffL, (long)Math.rint(saturated * 255.0f)));
        out[at + 15] = ((int)scaled & 0xff) | ((int)(long)v << 8);
    }

    private static int mix(final int x, final int seed)
    {
        int result = x ^ seed;
        result *= 0x9e3779b1;
        result ^= result >>> 16;
        return result;
    }

    private static int collatzSteps(final int start)
    {
        int x = start;
        int steps = 0;
        while (x != 1)
        {
            x = (x & 1) != 0 ? 3 * x + 1 : x >>> 1;
            steps++;
        }
        return steps;
    }
}
