package dev.bitfusion.cuda;

import dev.bitfusion.cuda.generator.CudaErrorsGeneratorTest;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class CuResultTest
{
    @Test
    void shouldNameAndDescribeResultsAsTheDriverApiDoes()
    {
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", CuResult.name(2));
        assertEquals("out of memory", CuResult.description(2));
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", CuResult.name(700));
        assertEquals("CUDA_SUCCESS", CuResult.name(0));
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS (700): an illegal memory access was encountered", CuResult.describe(700));
    }

    @Test
    void shouldAnswerNullForUnknownResultsButStillDescribeThemForPeople()
    {
        assertNull(CuResult.name(123456));
        assertNull(CuResult.description(123456));
        assertEquals("CUresult 123456", CuResult.describe(123456));
        assertEquals("CUDA_ERROR_NOT_SUPPORTED (801): operation not supported", CuResult.describe(801));
    }

    @Test
    void shouldDescribeACodeWithoutTheDriversWordsByItsName()
    {
        assertEquals("CUDA_ERROR_MAP_FAILED (205): map failed", CuResult.describe(CuResult.CUDA_ERROR_MAP_FAILED));
    }

    @Test
    void shouldHoldEveryCodeOfCudaHWithItsValueAndName() throws Exception
    {
        final Map<String, Integer> constants = new HashMap<>();
        for (final Field field : CuResult.class.getFields())
        {
            if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class)
            {
                constants.put(field.getName(), field.getInt(null));
            }
        }
        final Map<String, Integer> codes = CudaErrorsGeneratorTest.codesOfThisBuild();

        assertEquals(codes, constants);
        codes.forEach((name, value) -> assertEquals(name, CuResult.name(value)));
    }
}
