package dev.bitfusion.server;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The server's own memory that tenants make it hold (module images staged and loaded), counted against a budget
 * per tenant and a cap for the whole server, so that what clients send is refused with
 * CUDA_ERROR_OUT_OF_MEMORY before it is allocated, never paid for with the server's OutOfMemoryError.
 * <p>
 * A tenant's {@link Account} reserves bytes before they are allocated and releases them when they are freed; a
 * reservation must fit both the tenant's budget and what the cap has left. Closing an account releases whatever
 * it still holds, so a session that ends for any reason returns its share.
 * <p>
 * What is not counted here is bounded elsewhere: device memory (and the emulated GPU's host memory behind it)
 * by the tenant's slice, a session's fixed buffers by the server's session limit, queued replies by the
 * session taking no request while a reply waits, control replies by the bounded control reply sender.
 * <p>
 * Thread safety: the budget from any thread; an account from its session's thread only.
 */
public final class HostMemoryBudget
{
    /** Bytes of host memory all tenants together may make the server hold; 0 for the default. */
    public static final String CAP_PROP_NAME = "bitfusion.server.host.memory.bytes";
    /** Bytes of host memory one tenant may make the server hold; 0 for the default. */
    public static final String TENANT_PROP_NAME = "bitfusion.server.tenant.host.memory.bytes";
    /** The least a tenant's budget defaults to, so that small heaps still load ordinary modules. */
    static final long MIN_TENANT_DEFAULT_BYTES = 64L << 20;
    /** The most a tenant's budget defaults to. */
    static final long MAX_TENANT_DEFAULT_BYTES = 1L << 30;

    private final long capBytes;
    private final long tenantBytes;
    private final AtomicLong heldBytes = new AtomicLong();

    /**
     * @param capBytes    bytes all tenants together may make the server hold.
     * @param tenantBytes bytes one tenant may make the server hold.
     */
    public HostMemoryBudget(final long capBytes, final long tenantBytes)
    {
        if (capBytes <= 0 || tenantBytes <= 0)
        {
            throw new IllegalArgumentException("host memory budgets must be positive: cap " + capBytes +
                ", per tenant " + tenantBytes);
        }
        this.capBytes = capBytes;
        this.tenantBytes = Math.min(tenantBytes, capBytes);
    }

    /**
     * @return half the JVM's maximum heap: the other half is the server's own (sessions' buffers, decoding,
     * the garbage collector's room).
     */
    public static long defaultCapBytes()
    {
        return Runtime.getRuntime().maxMemory() / 2;
    }

    /**
     * @param capBytes the server-wide cap.
     * @return a quarter of the cap, between 64 MiB and 1 GiB: no one tenant takes all of it, and a module image
     * as large as real programs load (hundreds of MiB) fits.
     */
    public static long defaultTenantBytes(final long capBytes)
    {
        return Math.min(capBytes, Math.max(MIN_TENANT_DEFAULT_BYTES, Math.min(MAX_TENANT_DEFAULT_BYTES, capBytes / 4)));
    }

    public long capBytes()
    {
        return capBytes;
    }

    public long tenantBytes()
    {
        return tenantBytes;
    }

    /**
     * @return bytes all tenants hold now.
     */
    public long heldBytes()
    {
        return heldBytes.get();
    }

    /**
     * @return a new tenant's account, holding nothing.
     */
    Account newAccount()
    {
        return new Account();
    }

    private boolean reserveShared(final long bytes)
    {
        long held;
        do
        {
            held = heldBytes.get();
            if (bytes > capBytes - held)
            {
                return false;
            }
        }
        while (!heldBytes.compareAndSet(held, held + bytes));
        return true;
    }

    /**
     * One tenant's share.
     * <p>
     * Thread safety: the tenant's session thread only.
     */
    final class Account implements AutoCloseable
    {
        private long heldBytes;

        /**
         * @param bytes about to be allocated.
         * @return whether they fit the tenant's budget and the server's cap; if not, nothing is reserved.
         */
        boolean tryReserve(final long bytes)
        {
            if (bytes < 0 || bytes > tenantBytes - heldBytes || !reserveShared(bytes))
            {
                return false;
            }
            heldBytes += bytes;
            return true;
        }

        /**
         * @param bytes freed, reserved before.
         */
        void release(final long bytes)
        {
            final long released = Math.min(bytes, heldBytes);
            heldBytes -= released;
            HostMemoryBudget.this.heldBytes.addAndGet(-released);
        }

        long heldBytes()
        {
            return heldBytes;
        }

        /**
         * @return why a reservation of {@code bytes} was refused, for the tenant.
         */
        String refusal(final long bytes)
        {
            return bytes > tenantBytes - heldBytes ?
                "needs " + bytes + " bytes of the server's host memory; this session holds " + heldBytes +
                    " of the " + tenantBytes + " a session may (" + TENANT_PROP_NAME + ")" :
                "needs " + bytes + " bytes of the server's host memory; all sessions hold " +
                    HostMemoryBudget.this.heldBytes.get() + " of the " + capBytes + " the server allows (" +
                    CAP_PROP_NAME + ")";
        }

        /**
         * Release everything still held.
         */
        public void close()
        {
            release(heldBytes);
        }
    }
}
