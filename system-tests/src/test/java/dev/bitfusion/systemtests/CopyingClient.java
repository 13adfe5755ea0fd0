package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.RemoteDriver;
import dev.bitfusion.cuda.CuResult;
import dev.bitfusion.transport.Endpoint;

/**
 * A client program for tests to kill: takes a slice, allocates, says so, then copies until killed.
 * Arguments: HOST:PORT TRANSPORT MEGABYTES.
 */
public final class CopyingClient
{
    private CopyingClient()
    {
    }

    public static void main(final String[] args)
    {
        final long bytes = Long.parseLong(args[2]) << 20;
        final RemoteDriver driver = new RemoteDriver(
            new ClientSettings().server(Endpoint.parse(args[0])).transport(args[1]).memoryFraction(0.5), System.out);
        check(driver.cuInit(0));
        final long[] context = new long[1];
        check(driver.cuDevicePrimaryCtxRetain(context, 0));
        check(driver.cuCtxSetCurrent(context[0]));
        final long[] device = new long[1];
        check(driver.cuMemAlloc(device, bytes));
        final byte[] host = new byte[(int)Math.min(bytes, 64 << 20)];
        System.out.println("ALLOCATED " + bytes);
        System.out.flush();
        while (true)
        {
            check(driver.cuMemcpyHtoD(device[0], host, 0, host.length));
            check(driver.cuMemcpyDtoH(host, 0, device[0], host.length));
        }
    }

    private static void check(final int result)
    {
        if (result != CuResult.CUDA_SUCCESS)
        {
            System.out.println("FAILED " + CuResult.describe(result));
            System.exit(1);
        }
    }
}
