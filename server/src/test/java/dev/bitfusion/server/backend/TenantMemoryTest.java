package dev.bitfusion.server.backend;

import org.junit.jupiter.api.Test;

import static dev.bitfusion.cuda.CuResult.*;
import static org.junit.jupiter.api.Assertions.*;

class TenantMemoryTest
{
    private final TenantMemory tenant = new TenantMemory(new SliceBudget(1000));
    private final CallResult result = new CallResult();

    @Test
    void shouldRefuseAnAllocationPastTheSliceWithOutOfMemoryAndSayWhy()
    {
        assertEquals(CUDA_SUCCESS, tenant.admit(600, result.reset()));
        tenant.allocated(0x10000, 600);

        assertEquals(CUDA_ERROR_OUT_OF_MEMORY, tenant.admit(401, result.reset()));
        assertEquals("allocation of 401 bytes exceeds the slice: 600 of 1000 bytes in use", result.message);
        assertEquals(CUDA_SUCCESS, tenant.admit(400, result.reset()));
        assertEquals(600, tenant.allocatedBytes());
    }

    @Test
    void shouldShareOneSliceBetweenTheSessionsOfAReservation()
    {
        final SliceBudget budget = new SliceBudget(1000);
        final TenantMemory first = new TenantMemory(budget);
        final TenantMemory second = new TenantMemory(budget);
        assertEquals(CUDA_SUCCESS, first.admit(600, result.reset()));
        first.allocated(0x10000, 600);

        assertEquals(CUDA_ERROR_OUT_OF_MEMORY, second.admit(500, result.reset()));
        assertEquals("allocation of 500 bytes exceeds the slice: 600 of 1000 bytes in use (0 by this process, the " +
            "rest by other processes of the job)", result.message);
        assertEquals(CUDA_SUCCESS, second.admit(300, result.reset()));
        second.notAllocated(300);
        assertEquals(600, budget.heldBytes(), "an allocation that failed holds nothing");

        assertEquals(600, first.free(0x10000));
        assertEquals(CUDA_SUCCESS, second.admit(900, result.reset()));
        second.allocated(0x20000, 900);
        second.clear();
        assertEquals(0, budget.heldBytes(), "a session's end gives all it held back to the slice");
    }

    @Test
    void shouldRefuseAnEmptyAllocationAsInvalid()
    {
        assertEquals(CUDA_ERROR_INVALID_VALUE, tenant.admit(0, result.reset()));
        assertEquals(CUDA_ERROR_INVALID_VALUE, tenant.admit(-1, result.reset()));
    }

    @Test
    void shouldAcceptOnlyRangesInsideOneOfItsOwnAllocationsOrGlobals()
    {
        tenant.allocated(0x10000, 0x100);
        tenant.moduleLoaded(7, 0);
        tenant.addGlobal(7, 0x10100, 0x100);

        assertAll(
            () -> assertTrue(tenant.contains(0x100F0, 0x10), "the end of an allocation"),
            () -> assertTrue(tenant.contains(0x10100, 0x100), "a global"),
            () -> assertFalse(tenant.contains(0x100F0, 0x20), "from an allocation into the global after it"),
            () -> assertFalse(tenant.contains(0x20000, 1), "another tenant's or nobody's"),
            () -> assertFalse(tenant.contains(0x10000, -1), "a negative length"));
    }

    @Test
    void shouldFreeOnlyTheStartOfAnAllocationAndReturnItsBytesToTheSlice()
    {
        tenant.allocated(0x10000, 800);

        assertEquals(-1, tenant.free(0x10008), "inside, not at the start");
        assertEquals(-1, tenant.free(0x20000), "not this tenant's");
        assertEquals(800, tenant.free(0x10000));
        assertEquals(-1, tenant.free(0x10000), "twice");
        assertEquals(0, tenant.allocatedBytes());
        assertFalse(tenant.contains(0x10000, 1));
        assertEquals(CUDA_SUCCESS, tenant.admit(1000, result.reset()));
    }

    @Test
    void shouldNameAModulesGlobalsUntilTheModuleIsUnloaded()
    {
        tenant.moduleLoaded(7, 0);
        tenant.addGlobal(7, 0x50000, 64);
        tenant.addGlobal(7, 0x50040, 0);

        assertTrue(tenant.contains(0x50000, 64));
        assertFalse(tenant.contains(0x50040, 1), "an empty global adds nothing");
        tenant.moduleUnloaded(7);
        assertFalse(tenant.contains(0x50000, 1));
    }

    @Test
    void shouldIgnoreGlobalsOfAModuleItNeverLoaded()
    {
        tenant.addGlobal(9, 0x50000, 64);

        assertFalse(tenant.contains(0x50000, 1));
    }

    @Test
    void shouldCountWhatModulesHoldInTheSliceUntilUnloaded()
    {
        tenant.moduleLoaded(7, 300);

        assertEquals(300, tenant.allocatedBytes());
        assertEquals(CUDA_ERROR_OUT_OF_MEMORY, tenant.admit(701, result.reset()));
        tenant.moduleUnloaded(7);
        assertEquals(0, tenant.allocatedBytes());
    }

    @Test
    void shouldListAllocationsForFreeingAndForgetEverythingWhenCleared()
    {
        tenant.allocated(0x30000, 16);
        tenant.allocated(0x10000, 16);
        tenant.moduleLoaded(7, 100);
        tenant.addGlobal(7, 0x50000, 64);

        assertEquals(2, tenant.allocationCount());
        assertEquals(0x10000, tenant.allocationAt(0));
        assertEquals(0x30000, tenant.allocationAt(1));
        tenant.clear();
        assertEquals(0, tenant.allocationCount());
        assertEquals(0, tenant.allocatedBytes());
        assertFalse(tenant.contains(0x50000, 1));
    }
}
