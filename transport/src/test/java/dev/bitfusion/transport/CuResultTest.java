package dev.bitfusion.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class CuResultTest
{
    @Test
    void shouldNameAndDescribeResultsAsTheDriverApiDoes()
    {
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", CuResult.name(2));
        assertEquals("out of memory", CuResult.description(2));
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", CuResult.name(700));
        assertEquals("CUDA_SUCCESS", CuResult.name(0));
    }

    @Test
    void shouldAnswerNullForUnknownResultsButStillDescribeThemForPeople()
    {
        assertNull(CuResult.name(123456));
        assertNull(CuResult.description(123456));
        assertEquals("CUresult 123456", CuResult.describe(123456));
        assertEquals("CUDA_ERROR_NOT_SUPPORTED (801): operation not supported", CuResult.describe(801));
    }
}
