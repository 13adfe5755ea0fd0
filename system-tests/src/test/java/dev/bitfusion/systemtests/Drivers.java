package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.RemoteDriver;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.transport.Endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Opening RemoteDriver sessions in tests, and asserting CUresults with readable failures.
 */
final class Drivers
{
    private Drivers()
    {
    }

    /**
     * @return a driver on one GPU slice of the server, initialised, with the primary context current.
     */
    static RemoteDriver open(final Endpoint server, final String transport, final ClientSettings slice)
    {
        final RemoteDriver driver = new RemoteDriver(slice.server(server).transport(transport), System.out);
        ok(driver.cuInit(0), "cuInit", driver);
        makePrimaryCurrent(driver);
        return driver;
    }

    static RemoteDriver open(final Endpoint server, final String transport, final double fraction)
    {
        return open(server, transport, new ClientSettings().memoryFraction(fraction));
    }

    static void makePrimaryCurrent(final RemoteDriver driver)
    {
        final long context = DriverCalls.longOut(driver, "cuDevicePrimaryCtxRetain",
            out -> driver.contexts().cuDevicePrimaryCtxRetain(out, 0));
        ok(driver.contexts().cuCtxSetCurrent(context), "cuCtxSetCurrent", driver);
    }

    static void ok(final int result, final String call, final RemoteDriver driver)
    {
        assertEquals(CuResult.CUDA_SUCCESS, result,
            () -> call + " returned " + CuResult.describe(result) + "; last error: " + driver.lastError());
    }

    static void expect(final int expected, final int result, final String call)
    {
        assertEquals(expected, result,
            () -> call + " returned " + CuResult.describe(result) + ", expected " + CuResult.describe(expected));
    }

    static byte[] pattern(final int length, final int seed)
    {
        final byte[] bytes = new byte[length];
        int state = seed * 0x9E3779B9 + 1;
        for (int i = 0; i < length; i++)
        {
            state = state * 1664525 + 1013904223;
            bytes[i] = (byte)(state >>> 24);
        }
        return bytes;
    }
}
