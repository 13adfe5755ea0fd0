package dev.bitfusion.agent.driver;

import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageExtentTest
{
    @Test
    void shouldMeasurePtxTextUpToAndWithItsTerminator()
    {
        final byte[] ptx = ".version 8.0\n.target sm_80\n".getBytes(StandardCharsets.US_ASCII);
        try (NativeBuffer image = NativeBuffer.allocate(ptx.length + 16))
        {
            image.putBytes(0, ptx);

            assertEquals(new ImageExtent(image.address(), ptx.length + 1), ImageExtent.of(image.address()));
        }
    }

    @Test
    void shouldTakeAFatbinsLengthFromItsHeaderAndFollowCudartsWrapperToIt()
    {
        try (NativeBuffer fatbin = NativeBuffer.allocate(64); NativeBuffer wrapper = NativeBuffer.allocate(24))
        {
            fatbin.putInt(0, 0xba55ed50, ByteOrder.LITTLE_ENDIAN);
            fatbin.putShort(6, (short)16, ByteOrder.LITTLE_ENDIAN);
            fatbin.putLong(8, 48, ByteOrder.LITTLE_ENDIAN);
            wrapper.putInt(0, 0x466243b1, ByteOrder.LITTLE_ENDIAN);
            wrapper.putLong(8, fatbin.address(), ByteOrder.LITTLE_ENDIAN);

            assertEquals(new ImageExtent(fatbin.address(), 64), ImageExtent.of(fatbin.address()));
            assertEquals(new ImageExtent(fatbin.address(), 64), ImageExtent.of(wrapper.address()));
        }
    }

    @Test
    void shouldEndAnElfCubinWhereItsLastHeaderTableEnds()
    {
        try (NativeBuffer elf = NativeBuffer.allocate(0x400))
        {
            elf.putInt(0, 0x464c457f, ByteOrder.LITTLE_ENDIAN);
            elf.putLong(0x20, 0x40, ByteOrder.LITTLE_ENDIAN);
            elf.putShort(0x36, (short)56, ByteOrder.LITTLE_ENDIAN);
            elf.putShort(0x38, (short)2, ByteOrder.LITTLE_ENDIAN);
            elf.putLong(0x28, 0x200, ByteOrder.LITTLE_ENDIAN);
            elf.putShort(0x3a, (short)64, ByteOrder.LITTLE_ENDIAN);
            elf.putShort(0x3c, (short)5, ByteOrder.LITTLE_ENDIAN);

            assertEquals(0x200 + 64 * 5, ImageExtent.of(elf.address()).bytes());
        }
    }

    @Test
    void shouldTellBinaryImagesFromText()
    {
        assertTrue(ImageExtent.isBinary(new byte[] {0x50, (byte)0xed, 0x55, (byte)0xba, 0}));
        assertTrue(ImageExtent.isBinary(new byte[] {0x7f, 'E', 'L', 'F'}));
        assertFalse(ImageExtent.isBinary(".version 8.0".getBytes(StandardCharsets.US_ASCII)));
        assertFalse(ImageExtent.isBinary(new byte[] {0x7f}));
    }
}
