package dev.bitfusion.agent.driver;

import org.junit.jupiter.api.Test;

import static dev.bitfusion.agent.driver.FunctionAttributes.UNKNOWN;
import static org.junit.jupiter.api.Assertions.*;

class FunctionAttributesTest
{
    private static final int MAX_THREADS_PER_BLOCK = 0;
    private static final int MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

    private final FunctionAttributes attributes = new FunctionAttributes();

    @Test
    void shouldAnswerWhatTheServerSaidUntilSomethingIsSet()
    {
        assertEquals(UNKNOWN, attributes.answer(MAX_THREADS_PER_BLOCK));
        attributes.remember(MAX_THREADS_PER_BLOCK, 1024, attributes.generation());
        attributes.remember(MAX_DYNAMIC_SHARED_SIZE_BYTES, 48 * 1024, attributes.generation());
        assertEquals(1024, attributes.answer(MAX_THREADS_PER_BLOCK));

        setting(MAX_DYNAMIC_SHARED_SIZE_BYTES, 64 * 1024, true);
        assertEquals(UNKNOWN, attributes.answer(MAX_DYNAMIC_SHARED_SIZE_BYTES), "the set attribute is asked again");
        assertEquals(UNKNOWN, attributes.answer(MAX_THREADS_PER_BLOCK), "and so is every other one");
    }

    @Test
    void shouldDropAnAnswerASettingMayHaveOutdated()
    {
        final int askedIn = attributes.generation();
        setting(MAX_DYNAMIC_SHARED_SIZE_BYTES, 64 * 1024, true);
        attributes.remember(MAX_DYNAMIC_SHARED_SIZE_BYTES, 48 * 1024, askedIn);
        assertEquals(UNKNOWN, attributes.answer(MAX_DYNAMIC_SHARED_SIZE_BYTES));
    }

    @Test
    void shouldKnowASettingOnlyAfterTheServerAppliedIt()
    {
        assertFalse(attributes.isAlreadySet(MAX_DYNAMIC_SHARED_SIZE_BYTES, 64 * 1024));
        setting(MAX_DYNAMIC_SHARED_SIZE_BYTES, 64 * 1024, true);
        assertTrue(attributes.isAlreadySet(MAX_DYNAMIC_SHARED_SIZE_BYTES, 64 * 1024));
        assertFalse(attributes.isAlreadySet(MAX_DYNAMIC_SHARED_SIZE_BYTES, 32 * 1024));

        assertTrue(attributes.exceedsDynamicSharedLimit(64 * 1024 + 1), "a launch past the limit set here");
        assertFalse(attributes.exceedsDynamicSharedLimit(64 * 1024));

        setting(MAX_DYNAMIC_SHARED_SIZE_BYTES, 300 * 1024, false);
        assertFalse(attributes.exceedsDynamicSharedLimit(200 * 1024), "with no limit known here the server judges");
        assertFalse(attributes.isAlreadySet(MAX_DYNAMIC_SHARED_SIZE_BYTES, 64 * 1024),
            "after a refused setting the attribute's value is not known here");
    }

    @Test
    void shouldLeaveAttributesPastTheKnownRangeToTheServer()
    {
        attributes.remember(FunctionAttributes.ATTRIBUTE_COUNT, 1, attributes.generation());
        assertEquals(UNKNOWN, attributes.answer(FunctionAttributes.ATTRIBUTE_COUNT));
        assertEquals(UNKNOWN, attributes.answer(-1));
        setting(FunctionAttributes.ATTRIBUTE_COUNT, 1, true);
        assertFalse(attributes.isAlreadySet(FunctionAttributes.ATTRIBUTE_COUNT, 1));
    }

    private void setting(final int attribute, final int value, final boolean applied)
    {
        synchronized (attributes)
        {
            attributes.settingStarts();
            attributes.settled(attribute, value, applied);
        }
    }
}
