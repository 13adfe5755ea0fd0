/*
 * INTEGRITY_CHECK (d4082055-bde6-704b-8d34-ba123c66e1f2), which cudart 12.6+ requires: it hands the
 * driver a version and a time and expects back HMAC-MD2 (RFC 1319, RFC 2104 with 16-byte blocks) keyed
 * with a fixed 16-byte key, over (driver version, version, pid, thread, the two tables' addresses, the
 * check function's address, the time) followed by (uuid, PCI domain, bus, device) of every device.
 * Public notes (ZLUDA's dark_api) describe it; this is our own MD2/HMAC.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "forwarded_calls.h"

CUresult cuDriverGetVersion(int *version);

#define ATTRIBUTE_PCI_BUS_ID 33
#define ATTRIBUTE_PCI_DEVICE_ID 34
#define ATTRIBUTE_PCI_DOMAIN_ID 50

/* RFC 1319's permutation of 0..255 built from the digits of pi. */
static const unsigned char PI_SUBST[256] = {
    41, 46, 67, 201, 162, 216, 124, 1, 61, 54, 84, 161, 236, 240, 6, 19, 98, 167, 5, 243, 192, 199, 115, 140,
    152, 147, 43, 217, 188, 76, 130, 202, 30, 155, 87, 60, 253, 212, 224, 22, 103, 66, 111, 24, 138, 23, 229, 18,
    190, 78, 196, 214, 218, 158, 222, 73, 160, 251, 245, 142, 187, 47, 238, 122, 169, 104, 121, 145, 21, 178, 7, 63,
    148, 194, 16, 137, 11, 34, 95, 33, 128, 127, 93, 154, 90, 144, 50, 39, 53, 62, 204, 231, 191, 247, 151, 3,
    255, 25, 48, 179, 72, 165, 181, 209, 215, 94, 146, 42, 172, 86, 170, 198, 79, 184, 56, 210, 150, 164, 125, 182,
    118, 252, 107, 226, 156, 116, 4, 241, 69, 157, 112, 89, 100, 113, 135, 32, 134, 91, 207, 101, 230, 45, 168, 2,
    27, 96, 37, 173, 174, 176, 185, 246, 28, 70, 97, 105, 52, 64, 126, 15, 85, 71, 163, 35, 221, 81, 175, 58,
    195, 92, 249, 206, 186, 197, 234, 38, 44, 83, 13, 110, 133, 40, 132, 9, 211, 223, 205, 244, 65, 129, 77, 82,
    106, 220, 55, 200, 108, 193, 171, 250, 36, 225, 123, 8, 12, 189, 177, 74, 120, 136, 149, 139, 227, 99, 232, 109,
    233, 203, 213, 254, 59, 0, 29, 57, 242, 239, 183, 14, 102, 88, 208, 228, 166, 119, 114, 248, 235, 117, 75, 10,
    49, 68, 80, 180, 143, 237, 31, 26, 219, 153, 141, 51, 159, 17, 131, 20,
};

typedef struct
{
    unsigned char state[48];
    unsigned char checksum[16];
    unsigned char block[16];
    unsigned char last;
    unsigned int used;
} md2;

static void md2_compress(md2 *m)
{
    for (int i = 0; i < 16; i++)
    {
        m->state[16 + i] = m->block[i];
        m->state[32 + i] = (unsigned char)(m->state[16 + i] ^ m->state[i]);
    }
    unsigned int t = 0;
    for (int round = 0; round < 18; round++)
    {
        for (int k = 0; k < 48; k++)
        {
            t = m->state[k] ^= PI_SUBST[t];
        }
        t = (t + (unsigned int)round) & 0xff;
    }
    for (int i = 0; i < 16; i++)
    {
        m->last = m->checksum[i] ^= PI_SUBST[m->block[i] ^ m->last];
    }
}

static void md2_update(md2 *m, const void *data, size_t length, unsigned char mask)
{
    const unsigned char *bytes = data;
    for (size_t i = 0; i < length; i++)
    {
        m->block[m->used++] = (unsigned char)(bytes[i] ^ mask);
        if (m->used == 16)
        {
            md2_compress(m);
            m->used = 0;
        }
    }
}

static void md2_final(md2 *m, unsigned char digest[16])
{
    unsigned char padding[16];
    const unsigned char pad = (unsigned char)(16 - m->used);
    memset(padding, pad, pad);
    md2_update(m, padding, pad, 0);
    unsigned char checksum[16];
    memcpy(checksum, m->checksum, 16);
    md2_update(m, checksum, 16, 0);
    memcpy(digest, m->state, 16);
}

typedef struct
{
    uint32_t driver_version;
    uint32_t version;
    uint32_t process;
    uint32_t thread;
    const void *cudart_table;
    const void *integrity_table;
    const void *function;
    uint64_t unix_seconds;
} integrity_input;

typedef struct
{
    unsigned char uuid[16];
    int32_t pci_domain;
    int32_t pci_bus;
    int32_t pci_device;
} device_input;

static const unsigned char KEY[16] = {
    0x14, 0x6a, 0xdd, 0xae, 0x53, 0xa9, 0xa7, 0x52, 0xaa, 0x08, 0x41, 0x36, 0x0b, 0xf5, 0x5a, 0x9f,
};

extern const void *bf_cudart_interface_table(void);
static CUresult integrity_check(unsigned int version, uint64_t unix_seconds, uint64_t result[2]);

static const void *integrity_table[3] = {
    (const void *)(3 * sizeof(void *)),
    (const void *)integrity_check,
    NULL,
};

static CUresult integrity_check(unsigned int version, uint64_t unix_seconds, uint64_t result[2])
{
    if (result == NULL)
    {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (version % 10 == 0)
    {
        result[0] = 0x3341181C03CB675Cull;
        result[1] = 0x8ED383AA1F4CD1E8ull;
        return CUDA_SUCCESS;
    }
    if (version % 10 == 1)
    {
        result[0] = 0x1841181C03CB675Cull;
        result[1] = 0x8ED383AA1F4CD1E8ull;
        return CUDA_SUCCESS;
    }
    int driver_version = 0;
    int devices = 0;
    CUresult status = cuDriverGetVersion(&driver_version);
    if (status == CUDA_SUCCESS)
    {
        status = cuDeviceGetCount(&devices);
    }
    if (status != CUDA_SUCCESS)
    {
        return status;
    }
    const integrity_input input = {
        (uint32_t)driver_version, version, (uint32_t)getpid(), (uint32_t)(uintptr_t)pthread_self(),
        bf_cudart_interface_table(), integrity_table, (const void *)integrity_check, unix_seconds,
    };
    md2 inner;
    memset(&inner, 0, sizeof(inner));
    md2_update(&inner, KEY, sizeof(KEY), 0x36);
    md2_update(&inner, &input, sizeof(input), 0);
    for (int device = 0; device < devices; device++)
    {
        device_input info;
        memset(&info, 0, sizeof(info));
        status = cuDeviceGetUuid(info.uuid, device);
        if (status == CUDA_SUCCESS) status = cuDeviceGetAttribute(&info.pci_domain, ATTRIBUTE_PCI_DOMAIN_ID, device);
        if (status == CUDA_SUCCESS) status = cuDeviceGetAttribute(&info.pci_bus, ATTRIBUTE_PCI_BUS_ID, device);
        if (status == CUDA_SUCCESS) status = cuDeviceGetAttribute(&info.pci_device, ATTRIBUTE_PCI_DEVICE_ID, device);
        if (status != CUDA_SUCCESS)
        {
            return status;
        }
        md2_update(&inner, &info, sizeof(info), 0);
    }
    unsigned char inner_digest[16];
    md2_final(&inner, inner_digest);
    md2 outer;
    memset(&outer, 0, sizeof(outer));
    md2_update(&outer, KEY, sizeof(KEY), 0x5c);
    md2_update(&outer, inner_digest, sizeof(inner_digest), 0);
    unsigned char digest[16];
    md2_final(&outer, digest);
    memcpy(result, digest, 16);
    return CUDA_SUCCESS;
}

const void *bf_integrity_check_table(void)
{
    return integrity_table;
}
