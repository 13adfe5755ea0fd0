package dev.bitfusion.systemtests;

import dev.bitfusion.agent.ClientSettings;
import dev.bitfusion.agent.driver.NativeBuffer;
import dev.bitfusion.agent.driver.RemoteDriver;
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
        final NativeBuffer out = NativeBuffer.allocate(Long.BYTES);
        check(driver.cuInit(0));
        check(driver.contexts().cuDevicePrimaryCtxRetain(out.address(), 0));
        check(driver.contexts().cuCtxSetCurrent(out.getLong(0)));
        check(driver.memory().cuMemAlloc(out.address(), bytes));
        final long device = out.getLong(0);
        final NativeBuffer host = NativeBuffer.allocate((int)Math.min(bytes, 64 << 20));
        System.out.println("ALLOCATED " + bytes);
        System.out.flush();
        while (true)
        {
            check(driver.memory().cuMemcpyHtoD(device, host.address(), host.capacity()));
            check(driver.memory().cuMemcpyDtoH(host.address(), device, host.capacity()));
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
