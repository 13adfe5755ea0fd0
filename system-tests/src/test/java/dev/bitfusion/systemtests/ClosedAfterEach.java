package dev.bitfusion.systemtests;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;

/**
 * What a test started (servers, clients, raw sessions), closed after the test, the last started first: a client
 * goes before the server it talks to. Every one is closed even when an earlier close fails; the first failure is
 * the test's, the others suppressed in it.
 * <p>
 * Register it per test instance: {@code @RegisterExtension final ClosedAfterEach resources = new ClosedAfterEach();}
 */
final class ClosedAfterEach implements AfterEachCallback
{
    private final List<AutoCloseable> resources = new ArrayList<>();

    /**
     * @return the resource, for a test to go on with.
     */
    <T extends AutoCloseable> T add(final T resource)
    {
        resources.add(resource);
        return resource;
    }

    public void afterEach(final ExtensionContext context) throws Exception
    {
        Exception failure = null;
        for (int i = resources.size() - 1; i >= 0; i--)
        {
            try
            {
                resources.get(i).close();
            }
            catch (final Exception ex)
            {
                if (failure == null)
                {
                    failure = ex;
                }
                else
                {
                    failure.addSuppressed(ex);
                }
            }
        }
        resources.clear();
        if (failure != null)
        {
            throw failure;
        }
    }
}
